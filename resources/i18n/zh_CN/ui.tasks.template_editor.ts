<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>TemplateEditor</name>
    <message>
        <source>Prompt template</source>
        <translation>提示词模板</translation>
    </message>
    <message>
        <source>Prompt template editor</source>
        <translation>提示词模板编辑器</translation>
    </message>
    <message>
        <source>Template name</source>
        <translation>模板名称</translation>
    </message>
    <message>
        <source>Template text</source>
        <translation>模板文本</translation>
    </message>
    <message>
        <source>Placeholders in braces ({text}, {labels}, …) are filled in; other braces stay.</source>
        <translation>花括号中的占位符（{text}、{labels}、…）会被填入；其他花括号保持不变。</translation>
    </message>
    <message>
        <source>Template state</source>
        <translation>模板状态</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>Save template</source>
        <translation>保存模板</translation>
    </message>
    <message>
        <source>Reset to default</source>
        <translation>重置为默认</translation>
    </message>
    <message>
        <source>Reset template to default</source>
        <translation>将模板重置为默认</translation>
    </message>
    <message>
        <source>System prompt</source>
        <translation>系统提示词</translation>
    </message>
    <message>
        <source>User prompt</source>
        <translation>用户提示词</translation>
    </message>
    <message>
        <source>Each part of a long text</source>
        <translation>长文本的每一段</translation>
    </message>
    <message>
        <source>Combining the parts</source>
        <translation>合并各段</translation>
    </message>
    <message>
        <source>edited, not saved (used by the next run)</source>
        <translation>已编辑，未保存（下次运行时使用）</translation>
    </message>
    <message>
        <source>default</source>
        <translation>默认</translation>
    </message>
    <message>
        <source>your saved version</source>
        <translation>你保存的版本</translation>
    </message>
    <message>
        <source>Could not save: {error}</source>
        <translation>无法保存：{error}</translation>
    </message>
    <message>
        <source>Could not reset: {error}</source>
        <translation>无法重置：{error}</translation>
    </message>
</context>
</TS>
