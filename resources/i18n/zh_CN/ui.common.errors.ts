<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>Errors</name>
    <message>
        <source>The model file cannot be used.</source>
        <translation>无法使用该模型文件。</translation>
    </message>
    <message>
        <source>The default model could not be prepared.</source>
        <translation>无法准备默认模型。</translation>
    </message>
    <message>
        <source>The model could not be loaded.</source>
        <translation>无法加载模型。</translation>
    </message>
    <message>
        <source>The conversation no longer fits the model&apos;s context.</source>
        <translation>对话已超出模型的上下文长度。</translation>
    </message>
    <message>
        <source>The engine stopped unexpectedly.</source>
        <translation>推理引擎意外停止。</translation>
    </message>
    <message>
        <source>No model is loaded.</source>
        <translation>尚未加载模型。</translation>
    </message>
    <message>
        <source>These settings cannot be used.</source>
        <translation>这些设置无法使用。</translation>
    </message>
    <message>
        <source>The remote server did not answer as expected.</source>
        <translation>远程服务器的响应不符合预期。</translation>
    </message>
    <message>
        <source>Saving failed.</source>
        <translation>保存失败。</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>已取消。</translation>
    </message>
    <message>
        <source>The file could not be imported, and no chat was added.</source>
        <translation>无法导入此文件，没有添加任何聊天。</translation>
    </message>
    <message>
        <source>The knowledge base is in use by another Glassbox.</source>
        <translation>知识库正被另一个 Glassbox 使用。</translation>
    </message>
    <message>
        <source>There is no such collection.</source>
        <translation>没有这个文档集。</translation>
    </message>
    <message>
        <source>The knowledge base reported a problem.</source>
        <translation>知识库出现问题。</translation>
    </message>
    <message>
        <source>The document could not be read.</source>
        <translation>无法读取该文档。</translation>
    </message>
    <message>
        <source>The Chroma server holding this collection cannot be reached.</source>
        <translation>无法连接到存放此文档集的 Chroma 服务器。</translation>
    </message>
    <message>
        <source>The Chroma server has lost this collection&apos;s vectors.</source>
        <translation>Chroma 服务器已丢失此文档集的向量。</translation>
    </message>
    <message>
        <source>The embedding model could not be loaded.</source>
        <translation>无法加载嵌入模型。</translation>
    </message>
    <message>
        <source>Something went wrong.</source>
        <translation>出现错误。</translation>
    </message>
</context>
</TS>
