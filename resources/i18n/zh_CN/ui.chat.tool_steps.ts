<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ToolSteps</name>
    <message>
        <source>The same call again: not run; the model answers with the result it has.</source>
        <translation>相同的调用再次出现：未运行；模型用已有的结果回答。</translation>
    </message>
    <message>
        <source>The most tool calls one reply may make ({n}, Settings → Tools) were made; the model answered with what it had.</source>
        <translation>一次回复最多可进行的工具调用（{n} 次，见“设置 → 工具”）已用完；模型用已有的信息作答。</translation>
    </message>
    <message>
        <source>Result of {tool}:</source>
        <translation>{tool} 的结果：</translation>
    </message>
    <message>
        <source>{tool} was denied; the model was told so.</source>
        <translation>{tool} 被拒绝；已告知模型。</translation>
    </message>
    <message>
        <source>{tool} failed:</source>
        <translation>{tool} 失败：</translation>
    </message>
    <message>
        <source>The call to {tool} was not valid:</source>
        <translation>对 {tool} 的调用无效：</translation>
    </message>
    <message>
        <source>The call to {tool} was stopped.</source>
        <translation>对 {tool} 的调用已停止。</translation>
    </message>
    <message>
        <source>({n} more characters in Details)</source>
        <translation>（另有 {n} 个字符，见“详情”）</translation>
    </message>
    <message>
        <source>Tool call {n}</source>
        <translation>工具调用 {n}</translation>
    </message>
</context>
</TS>
