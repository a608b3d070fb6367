<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>SourceViewer</name>
    <message>
        <source>Read by OCR, confidence {confidence}: the passage may hold recognition mistakes.</source>
        <translation>由 OCR 识别，置信度 {confidence}：这段文字可能有识别错误。</translation>
    </message>
    <message>
        <source>Source viewer</source>
        <translation>来源查看器</translation>
    </message>
    <message>
        <source>Source — {name}</source>
        <translation>来源 — {name}</translation>
    </message>
    <message>
        <source>Source path</source>
        <translation>来源路径</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <source>Source note</source>
        <translation>来源说明</translation>
    </message>
    <message>
        <source>OCR confidence</source>
        <translation>OCR 置信度</translation>
    </message>
    <message>
        <source>Source text</source>
        <translation>来源文本</translation>
    </message>
    <message>
        <source>Source viewer buttons</source>
        <translation>来源查看器按钮</translation>
    </message>
    <message>
        <source>This file is not in the knowledge base.</source>
        <translation>此文件不在知识库中。</translation>
    </message>
    <message>
        <source>This document is still being indexed.</source>
        <translation>此文档仍在索引中。</translation>
    </message>
    <message>
        <source>The file&apos;s text.</source>
        <translation>文件的文本。</translation>
    </message>
    <message>
        <source>The text extracted when the document was indexed (breaks between passages shown as blank lines).</source>
        <translation>索引文档时提取的文本（段落之间的分隔显示为空行）。</translation>
    </message>
    <message>
        <source>This document could not be indexed: {reason}</source>
        <translation>此文档无法索引：{reason}</translation>
    </message>
</context>
</TS>
