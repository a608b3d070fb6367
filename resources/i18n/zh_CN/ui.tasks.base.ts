<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>TaskTab</name>
    <message>
        <source>{name} task</source>
        <translation>{name}任务</translation>
    </message>
    <message>
        <source>{name} prompt template</source>
        <translation>{name}提示词模板</translation>
    </message>
    <message>
        <source>Run {name}</source>
        <translation>运行{name}</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Cancel {name}</source>
        <translation>取消{name}</translation>
    </message>
    <message>
        <source>{name} progress</source>
        <translation>{name}进度</translation>
    </message>
    <message>
        <source>{name} status</source>
        <translation>{name}状态</translation>
    </message>
    <message>
        <source>{name} run controls</source>
        <translation>{name}运行控件</translation>
    </message>
    <message>
        <source>{what}…</source>
        <translation>{what}…</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <source>{n} tokens · mean p {mean:.2f}</source>
        <translation>{n} 个词元 · 平均 p {mean:.2f}</translation>
    </message>
    <message>
        <source>no tokens recorded</source>
        <translation>未记录词元</translation>
    </message>
    <message>
        <source>Copied.</source>
        <translation>已复制。</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>已取消。</translation>
    </message>
</context>
<context>
    <name>TextInput</name>
    <message>
        <source>Text files (*.txt *.md *.csv *.tsv *.jsonl *.json *.log);;All files (*)</source>
        <translation>文本文件 (*.txt *.md *.csv *.tsv *.jsonl *.json *.log);;所有文件 (*)</translation>
    </message>
    <message>
        <source>{name} is {size:.0f} MB; open a text under 20 MB.</source>
        <translation>{name} 大小为 {size:.0f} MB；请打开小于 20 MB 的文本。</translation>
    </message>
    <message>
        <source>{name} is not UTF-8 text. Add it to the knowledge base to read PDFs and Word files.</source>
        <translation>{name} 不是 UTF-8 文本。PDF 和 Word 文件请先添加到知识库再读取。</translation>
    </message>
    <message>
        <source>{name} cannot be read ({reason}).</source>
        <translation>无法读取 {name}（{reason}）。</translation>
    </message>
    <message>
        <source>{name} input</source>
        <translation>{name}输入</translation>
    </message>
    <message>
        <source>{name} text</source>
        <translation>{name}文本</translation>
    </message>
    <message>
        <source>Open…</source>
        <translation>打开…</translation>
    </message>
    <message>
        <source>Open {name} files</source>
        <translation>打开{name}文件</translation>
    </message>
    <message>
        <source>Open one text file, or several to run them as a batch</source>
        <translation>打开一个文本文件，或打开多个作为批量运行</translation>
    </message>
    <message>
        <source>From knowledge base…</source>
        <translation>从知识库…</translation>
    </message>
    <message>
        <source>Open {name} input from the knowledge base</source>
        <translation>从知识库打开{name}输入</translation>
    </message>
    <message>
        <source>Choose one indexed document, or several to run them as a batch</source>
        <translation>选择一个已索引的文档，或选择多个作为批量运行</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <source>Clear {name} input</source>
        <translation>清除{name}输入</translation>
    </message>
    <message>
        <source>{name} input source</source>
        <translation>{name}输入来源</translation>
    </message>
    <message>
        <source>Loading {n} document(s) from the knowledge base…</source>
        <translation>正在从知识库加载 {n} 个文档…</translation>
    </message>
    <message>
        <source>from {name}</source>
        <translation>来自 {name}</translation>
    </message>
    <message>
        <source>… and {n} more</source>
        <translation>… 以及另外 {n} 个</translation>
    </message>
    <message>
        <source>{n} files opened as a batch:</source>
        <translation>已打开 {n} 个文件作为批量：</translation>
    </message>
    <message>
        <source>batch of {n} files</source>
        <translation>批量：{n} 个文件</translation>
    </message>
    <message>
        <source>{n} documents opened as a batch:</source>
        <translation>已打开 {n} 个文档作为批量：</translation>
    </message>
    <message>
        <source>batch of {n} documents</source>
        <translation>批量：{n} 个文档</translation>
    </message>
    <message>
        <source>Type here to work on a text instead.</source>
        <translation>在此输入文本可改为处理单个文本。</translation>
    </message>
    <message>
        <source>from {name} (knowledge base)</source>
        <translation>来自 {name}（知识库）</translation>
    </message>
    <message>
        <source>{text}; left out (no text): {names}</source>
        <translation>{text}；已略过（无文本）：{names}</translation>
    </message>
    <message>
        <source>Open text</source>
        <translation>打开文本</translation>
    </message>
</context>
</TS>
