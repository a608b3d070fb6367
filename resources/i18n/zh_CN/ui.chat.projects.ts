<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ProjectDialog</name>
    <message>
        <source>New project</source>
        <translation>新建项目</translation>
    </message>
    <message>
        <source>Project settings</source>
        <translation>项目设置</translation>
    </message>
    <message>
        <source>Project name</source>
        <translation>项目名称</translation>
    </message>
    <message>
        <source>A name for the project</source>
        <translation>项目的名称</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>名称(&amp;N)：</translation>
    </message>
    <message>
        <source>Project system prompt</source>
        <translation>项目系统提示</translation>
    </message>
    <message>
        <source>Sent before the messages of new chats</source>
        <translation>在新对话的消息之前发送</translation>
    </message>
    <message>
        <source>System &amp;prompt:</source>
        <translation>系统提示(&amp;P)：</translation>
    </message>
    <message>
        <source>Project sampling preset</source>
        <translation>项目采样预设</translation>
    </message>
    <message>
        <source>Keep the project&apos;s values</source>
        <translation>保留项目当前的值</translation>
    </message>
    <message>
        <source>None (the sampling panel&apos;s values)</source>
        <translation>无（使用采样面板的值）</translation>
    </message>
    <message>
        <source>Preset “{name}”</source>
        <translation>预设“{name}”</translation>
    </message>
    <message>
        <source>Project sampling values</source>
        <translation>项目采样值</translation>
    </message>
    <message>
        <source>&amp;Sampling:</source>
        <translation>采样(&amp;S)：</translation>
    </message>
    <message>
        <source>Project knowledge collections</source>
        <translation>项目知识库集合</translation>
    </message>
    <message>
        <source>No knowledge collections yet (the Knowledge panel makes them).</source>
        <translation>还没有知识库集合（可在“知识库”面板中创建）。</translation>
    </message>
    <message>
        <source>&amp;Collections:</source>
        <translation>集合(&amp;C)：</translation>
    </message>
    <message>
        <source>Project pinned files</source>
        <translation>项目固定文件</translation>
    </message>
    <message>
        <source>Pinned files</source>
        <translation>固定文件</translation>
    </message>
    <message>
        <source>Add…</source>
        <translation>添加…</translation>
    </message>
    <message>
        <source>Pin files</source>
        <translation>固定文件</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Unpin the selected file</source>
        <translation>取消固定所选文件</translation>
    </message>
    <message>
        <source>Pinned &amp;files:</source>
        <translation>固定文件(&amp;F)：</translation>
    </message>
    <message>
        <source>Project dialog buttons</source>
        <translation>项目对话框按钮</translation>
    </message>
    <message>
        <source>Give the project a name first.</source>
        <translation>请先为项目命名。</translation>
    </message>
    <message>
        <source>New chats use the values set in the sampling panel.</source>
        <translation>新对话使用采样面板中设置的值。</translation>
    </message>
    <message>
        <source>Pin files to the project</source>
        <translation>把文件固定到项目</translation>
    </message>
</context>
</TS>
