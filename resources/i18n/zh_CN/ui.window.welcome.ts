<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>WelcomePage</name>
    <message>
        <source>Glassbox is an assistant that runs entirely on this computer, offline, and shows how likely every token of its replies was.</source>
        <translation>Glassbox 是一款完全在本机离线运行的助手，并会显示其回复中每个词元的可能性。</translation>
    </message>
    <message>
        <source>Drop documents or folders anywhere on this window to add them to the knowledge base; chats can then answer from them and cite their sources.</source>
        <translation>将文档或文件夹拖放到此窗口的任意位置即可加入知识库；之后对话便可依据它们作答并引用来源。</translation>
    </message>
    <message>
        <source>Choose Model → Open model file… (Ctrl+O) to use a GGUF file you have, or load the default model. From a terminal, &lt;code&gt;make run&lt;/code&gt; or &lt;code&gt;glassbox models install-default&lt;/code&gt; installs the default model.</source>
        <translation>选择“模型 → 打开模型文件…”（Ctrl+O）以使用你已有的 GGUF 文件，或加载默认模型。在终端中运行 &lt;code&gt;make run&lt;/code&gt; 或 &lt;code&gt;glassbox models install-default&lt;/code&gt; 可安装默认模型。</translation>
    </message>
    <message>
        <source>Welcome</source>
        <translation>欢迎</translation>
    </message>
    <message>
        <source>Welcome to Glassbox</source>
        <translation>欢迎使用 Glassbox</translation>
    </message>
    <message>
        <source>Welcome title</source>
        <translation>欢迎标题</translation>
    </message>
    <message>
        <source>What Glassbox is</source>
        <translation>Glassbox 简介</translation>
    </message>
    <message>
        <source>Model status</source>
        <translation>模型状态</translation>
    </message>
    <message>
        <source>Model preparation progress</source>
        <translation>模型准备进度</translation>
    </message>
    <message>
        <source>Where documents go</source>
        <translation>文档放在哪里</translation>
    </message>
    <message>
        <source>Open another GGUF…</source>
        <translation>打开其他 GGUF…</translation>
    </message>
    <message>
        <source>Open another GGUF model file</source>
        <translation>打开其他 GGUF 模型文件</translation>
    </message>
    <message>
        <source>Load a GGUF model file from disk (Ctrl+O)</source>
        <translation>从磁盘加载 GGUF 模型文件（Ctrl+O）</translation>
    </message>
    <message>
        <source>Load the default model</source>
        <translation>加载默认模型</translation>
    </message>
    <message>
        <source>The model is prepared as soon as the window is open; the status bar below shows its progress.</source>
        <translation>窗口打开后即开始准备模型；下方状态栏显示进度。</translation>
    </message>
    <message>
        <source>{status} The status bar below shows the progress; you can start typing once it is ready.</source>
        <translation>{status} 下方状态栏显示进度；准备就绪后即可开始输入。</translation>
    </message>
    <message>
        <source>&lt;b&gt;{name}&lt;/b&gt; is ready: type a message below and press Enter.</source>
        <translation>&lt;b&gt;{name}&lt;/b&gt; 已就绪：在下方输入消息并按 Enter。</translation>
    </message>
    <message>
        <source>No model is loaded: {reason} {help}</source>
        <translation>尚未加载模型：{reason} {help}</translation>
    </message>
    <message>
        <source>No model is loaded. {help}</source>
        <translation>尚未加载模型。{help}</translation>
    </message>
</context>
</TS>
