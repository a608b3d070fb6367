<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>KnowledgePicker</name>
    <message>
        <source>From the knowledge base</source>
        <translation>从知识库选择</translation>
    </message>
    <message>
        <source>Knowledge base documents</source>
        <translation>知识库文档</translation>
    </message>
    <message>
        <source>Collection</source>
        <translation>文档集</translation>
    </message>
    <message>
        <source>Knowledge collection</source>
        <translation>知识库文档集</translation>
    </message>
    <message>
        <source>Knowledge documents</source>
        <translation>知识库文档</translation>
    </message>
    <message>
        <source>Select one document, or several to run them as a batch.</source>
        <translation>选择一个文档，或选择多个作为批量运行。</translation>
    </message>
    <message>
        <source>Listing the collections…</source>
        <translation>正在列出文档集…</translation>
    </message>
    <message>
        <source>Knowledge picker note</source>
        <translation>知识库选择器提示</translation>
    </message>
    <message>
        <source>Knowledge picker buttons</source>
        <translation>知识库选择器按钮</translation>
    </message>
    <message>
        <source>Use</source>
        <translation>使用</translation>
    </message>
    <message>
        <source>Use the selected documents</source>
        <translation>使用所选文档</translation>
    </message>
    <message>
        <source>Cancel choosing documents</source>
        <translation>取消选择文档</translation>
    </message>
    <message>
        <source>The knowledge base is empty: add documents in the Knowledge panel.</source>
        <translation>知识库为空：请在“知识库”面板中添加文档。</translation>
    </message>
    <message>
        <source>Listing the documents of “{name}”…</source>
        <translation>正在列出“{name}”中的文档…</translation>
    </message>
    <message>
        <source>{n} document(s) in “{collection}”.</source>
        <translation>“{collection}”中有 {n} 个文档。</translation>
    </message>
    <message>
        <source>No indexed document here.</source>
        <translation>此处没有已索引的文档。</translation>
    </message>
    <message>
        <source>{n} not indexed (still pending or failed) are not listed.</source>
        <translation>另有 {n} 个未索引（仍在等待或失败）的文档未列出。</translation>
    </message>
    <message>
        <source>Use {n} as a batch</source>
        <translation>将 {n} 个作为批量使用</translation>
    </message>
</context>
</TS>
