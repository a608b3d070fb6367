<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>QueuePanel</name>
    <message>
        <source>Queued message {n}</source>
        <translation>排队的消息 {n}</translation>
    </message>
    <message>
        <source>Edit the message before it is sent; Enter keeps the edit.</source>
        <translation>发送前可编辑此消息；按 Enter 保存修改。</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Remove queued message {n}</source>
        <translation>移除排队的消息 {n}</translation>
    </message>
    <message>
        <source>Send now</source>
        <translation>立即发送</translation>
    </message>
    <message>
        <source>Send queued message {n} now</source>
        <translation>立即发送排队的消息 {n}</translation>
    </message>
    <message>
        <source>Queued messages</source>
        <translation>排队的消息</translation>
    </message>
    <message>
        <source>Queue state</source>
        <translation>队列状态</translation>
    </message>
    <message>
        <source>Queued messages ({n}): sent in order when the reply ends.</source>
        <translation>排队的消息（{n} 条）：回复结束后按顺序发送。</translation>
    </message>
    <message>
        <source>Queued messages ({n}): send them now or remove them.</source>
        <translation>排队的消息（{n} 条）：可以立即发送或移除。</translation>
    </message>
</context>
</TS>
