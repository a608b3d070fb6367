<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ToolOptions</name>
    <message>
        <source>Calculator</source>
        <translation>计算器</translation>
    </message>
    <message>
        <source>Date and time</source>
        <translation>日期和时间</translation>
    </message>
    <message>
        <source>Search the attached collections</source>
        <translation>搜索已附加的知识库</translation>
    </message>
    <message>
        <source>Read files dropped into this chat</source>
        <translation>读取拖入此对话的文件</translation>
    </message>
    <message>
        <source>Tools</source>
        <translation>工具</translation>
    </message>
    <message>
        <source>Tools the model may call in this chat. Built-in read-only tools run at once; a server&apos;s tools ask you first, in the reply.</source>
        <translation>模型在此对话中可以调用的工具。内置的只读工具会直接运行；服务器的工具会先在回复中征求你的同意。</translation>
    </message>
    <message>
        <source>Ask before built-in tools too</source>
        <translation>内置工具也先询问</translation>
    </message>
    <message>
        <source>MCP server: {name}</source>
        <translation>MCP 服务器：{name}</translation>
    </message>
</context>
</TS>
