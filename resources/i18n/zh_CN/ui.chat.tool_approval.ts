<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ToolApprovalRow</name>
    <message>
        <source>Tool call waiting for approval</source>
        <translation>等待批准的工具调用</translation>
    </message>
    <message>
        <source>The model wants to call {tool} (from the server {server}):</source>
        <translation>模型想要调用 {tool}（来自服务器 {server}）：</translation>
    </message>
    <message>
        <source>The model wants to call {tool}:</source>
        <translation>模型想要调用 {tool}：</translation>
    </message>
    <message>
        <source>Arguments of the call</source>
        <translation>调用的参数</translation>
    </message>
    <message>
        <source>Allow once</source>
        <translation>允许一次</translation>
    </message>
    <message>
        <source>Always for this chat</source>
        <translation>在此对话中始终允许</translation>
    </message>
    <message>
        <source>Run this tool without asking again in this chat.</source>
        <translation>在此对话中运行此工具时不再询问。</translation>
    </message>
    <message>
        <source>Deny</source>
        <translation>拒绝</translation>
    </message>
    <message>
        <source>The model is told the call was denied.</source>
        <translation>模型会被告知此调用已被拒绝。</translation>
    </message>
    <message>
        <source>Allowed once.</source>
        <translation>已允许一次。</translation>
    </message>
    <message>
        <source>Allowed for this chat.</source>
        <translation>已在此对话中允许。</translation>
    </message>
    <message>
        <source>Denied: the model was told so.</source>
        <translation>已拒绝：模型已被告知。</translation>
    </message>
</context>
</TS>
