<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ModelPanel</name>
    <message>
        <source>GGUF files (*.gguf);;All files (*)</source>
        <translation>GGUF 文件 (*.gguf);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation>架构</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>参数量</translation>
    </message>
    <message>
        <source>Quantization</source>
        <translation>量化</translation>
    </message>
    <message>
        <source>Context trained</source>
        <translation>训练上下文</translation>
    </message>
    <message>
        <source>Layers</source>
        <translation>层数</translation>
    </message>
    <message>
        <source>Embedding size</source>
        <translation>嵌入维度</translation>
    </message>
    <message>
        <source>Feed-forward size</source>
        <translation>前馈维度</translation>
    </message>
    <message>
        <source>Heads (KV)</source>
        <translation>注意力头（KV）</translation>
    </message>
    <message>
        <source>Vocabulary</source>
        <translation>词表</translation>
    </message>
    <message>
        <source>Tokenizer</source>
        <translation>分词器</translation>
    </message>
    <message>
        <source>RoPE</source>
        <translation>RoPE</translation>
    </message>
    <message>
        <source>File size</source>
        <translation>文件大小</translation>
    </message>
    <message>
        <source>GGUF version</source>
        <translation>GGUF 版本</translation>
    </message>
    <message>
        <source>Tensors / metadata</source>
        <translation>张量 / 元数据</translation>
    </message>
    <message>
        <source>{count} tokens</source>
        <translation>{count} 个词元</translation>
    </message>
    <message>
        <source>{size} ({bytes} bytes)</source>
        <translation>{size}（{bytes} 字节）</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Model panel</source>
        <translation>模型面板</translation>
    </message>
    <message>
        <source>Model panel contents</source>
        <translation>模型面板内容</translation>
    </message>
    <message>
        <source>Load</source>
        <translation>加载</translation>
    </message>
    <message>
        <source>Load model</source>
        <translation>加载模型</translation>
    </message>
    <message>
        <source>Load the model with these options</source>
        <translation>用这些选项加载模型</translation>
    </message>
    <message>
        <source>Model panel scroll area</source>
        <translation>模型面板滚动区域</translation>
    </message>
    <message>
        <source>Model file</source>
        <translation>模型文件</translation>
    </message>
    <message>
        <source>Model file path</source>
        <translation>模型文件路径</translation>
    </message>
    <message>
        <source>Path to a .gguf model</source>
        <translation>.gguf 模型的路径</translation>
    </message>
    <message>
        <source>Open GGUF…</source>
        <translation>打开 GGUF…</translation>
    </message>
    <message>
        <source>Open GGUF file</source>
        <translation>打开 GGUF 文件</translation>
    </message>
    <message>
        <source>Reading the file&apos;s header…</source>
        <translation>正在读取文件头…</translation>
    </message>
    <message>
        <source>Model file reading</source>
        <translation>正在读取模型文件</translation>
    </message>
    <message>
        <source>Model file error</source>
        <translation>模型文件错误</translation>
    </message>
    <message>
        <source>Inspector</source>
        <translation>文件信息</translation>
    </message>
    <message>
        <source>The file&apos;s SHA-256, computed after the model loads</source>
        <translation>文件的 SHA-256，在模型加载后计算</translation>
    </message>
    <message>
        <source>Chat template</source>
        <translation>对话模板</translation>
    </message>
    <message>
        <source>Chat template from the file</source>
        <translation>文件中的对话模板</translation>
    </message>
    <message>
        <source>No template: replies use the plain format.</source>
        <translation>无模板：回复使用纯文本格式。</translation>
    </message>
    <message>
        <source>Override template</source>
        <translation>覆盖模板</translation>
    </message>
    <message>
        <source>Format chats with the template below instead</source>
        <translation>改用下面的模板格式化对话</translation>
    </message>
    <message>
        <source>Override template text</source>
        <translation>覆盖模板文本</translation>
    </message>
    <message>
        <source>A Jinja chat template, e.g. ChatML</source>
        <translation>Jinja 对话模板，例如 ChatML</translation>
    </message>
    <message>
        <source>Load options</source>
        <translation>加载选项</translation>
    </message>
    <message>
        <source>Context length</source>
        <translation>上下文长度</translation>
    </message>
    <message>
        <source> tokens</source>
        <translation> 个词元</translation>
    </message>
    <message>
        <source>GPU layers</source>
        <translation>GPU 层数</translation>
    </message>
    <message>
        <source>All</source>
        <translation>全部</translation>
    </message>
    <message>
        <source>Layers offloaded to the GPU (All, or 0 for none)</source>
        <translation>卸载到 GPU 的层数（全部，或 0 表示不卸载）</translation>
    </message>
    <message>
        <source>GPU note</source>
        <translation>GPU 说明</translation>
    </message>
    <message>
        <source>Threads</source>
        <translation>线程</translation>
    </message>
    <message>
        <source>Auto</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>Generation threads; Auto picks the fast cores</source>
        <translation>生成线程数；“自动”选用快速核心</translation>
    </message>
    <message>
        <source>LoRA adapter</source>
        <translation>LoRA 适配器</translation>
    </message>
    <message>
        <source>LoRA adapter path</source>
        <translation>LoRA 适配器路径</translation>
    </message>
    <message>
        <source>None</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <source>Choose LoRA adapter</source>
        <translation>选择 LoRA 适配器</translation>
    </message>
    <message>
        <source>Scale:</source>
        <translation>缩放：</translation>
    </message>
    <message>
        <source>LoRA scale label</source>
        <translation>LoRA 缩放标签</translation>
    </message>
    <message>
        <source>LoRA scale</source>
        <translation>LoRA 缩放</translation>
    </message>
    <message>
        <source>0: the base model, 1: the adapter as trained</source>
        <translation>0：基础模型，1：按训练时的适配器</translation>
    </message>
    <message>
        <source>LoRA adapter status</source>
        <translation>LoRA 适配器状态</translation>
    </message>
    <message>
        <source>Speed</source>
        <translation>速度</translation>
    </message>
    <message>
        <source>Draft model</source>
        <translation>草稿模型</translation>
    </message>
    <message>
        <source>A small model with the same vocabulary proposes tokens and the model checks them in one step: replies come faster and are drawn from the same probabilities. Changing it reloads the model.</source>
        <translation>一个词表相同的小模型先提议词元，主模型一步检验它们：回复更快，且仍按相同的概率抽取。更改此项会重新加载模型。</translation>
    </message>
    <message>
        <source>Qwen2.5-Coder-0.5B (bundled)</source>
        <translation>Qwen2.5-Coder-0.5B（内置）</translation>
    </message>
    <message>
        <source>Choose a GGUF file…</source>
        <translation>选择 GGUF 文件…</translation>
    </message>
    <message>
        <source>Prompt lookup</source>
        <translation>提示词查找</translation>
    </message>
    <message>
        <source>Propose the tokens that followed the same words earlier in the prompt or the reply; pays off when a reply quotes or edits its input.</source>
        <translation>提议提示词或回复中相同词语之后出现过的词元；回复引用或修改输入时最有效。</translation>
    </message>
    <message>
        <source>Maximum draft length</source>
        <translation>最大草稿长度</translation>
    </message>
    <message>
        <source>The most tokens proposed at once; fewer are proposed when few are accepted</source>
        <translation>一次最多提议的词元数；接受的较少时会提议得更少</translation>
    </message>
    <message>
        <source>Draft model status</source>
        <translation>草稿模型状态</translation>
    </message>
    <message>
        <source>In effect</source>
        <translation>当前生效</translation>
    </message>
    <message>
        <source>No model loaded.</source>
        <translation>未加载模型。</translation>
    </message>
    <message>
        <source>Loaded model summary</source>
        <translation>已加载模型摘要</translation>
    </message>
    <message>
        <source>This build of llama.cpp has no GPU support: every layer runs on the CPU.</source>
        <translation>此 llama.cpp 版本不支持 GPU：所有层都在 CPU 上运行。</translation>
    </message>
    <message>
        <source>The draft model was not loaded; the model works without it. Choose another draft model or None.</source>
        <translation>草稿模型未加载；模型不用它也能正常工作。请选择其他草稿模型，或选择“无”。</translation>
    </message>
    <message>
        <source>Draft model loaded: {name}</source>
        <translation>已加载草稿模型：{name}</translation>
    </message>
    <message>
        <source>Template: plain format (no template)</source>
        <translation>模板：纯文本格式（无模板）</translation>
    </message>
    <message>
        <source>Template: set</source>
        <translation>模板：已设置</translation>
    </message>
    <message>
        <source>Template: the model&apos;s own</source>
        <translation>模板：模型自带</translation>
    </message>
    <message>
        <source>Template: override</source>
        <translation>模板：覆盖</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Context {n_ctx} tokens (trained {n_ctx_train}), vocabulary {n_vocab}</source>
        <translation>上下文 {n_ctx} 个词元（训练时 {n_ctx_train}），词表 {n_vocab}</translation>
    </message>
    <message>
        <source>{backend}, {threads} / {threads_batch} threads, loaded in {seconds} s</source>
        <translation>{backend}，{threads} / {threads_batch} 线程，加载用时 {seconds} 秒</translation>
    </message>
    <message>
        <source>LoRA: {adapter}</source>
        <translation>LoRA：{adapter}</translation>
    </message>
    <message>
        <source>Draft model: {draft}</source>
        <translation>草稿模型：{draft}</translation>
    </message>
    <message>
        <source>SHA-256: {hash}</source>
        <translation>SHA-256：{hash}</translation>
    </message>
    <message>
        <source>SHA-256: computing…</source>
        <translation>SHA-256：计算中…</translation>
    </message>
    <message>
        <source>Reading the adapter&apos;s header…</source>
        <translation>正在读取适配器的文件头…</translation>
    </message>
    <message>
        <source>The LoRA adapter cannot be used.</source>
        <translation>无法使用此 LoRA 适配器。</translation>
    </message>
    <message>
        <source>LoRA for {architecture}: rank {rank}, alpha {alpha}, {count} tensors adapted</source>
        <translation>适用于 {architecture} 的 LoRA：秩 {rank}，alpha {alpha}，适配 {count} 个张量</translation>
    </message>
    <message>
        <source>Open GGUF model</source>
        <translation>打开 GGUF 模型</translation>
    </message>
    <message>
        <source>Choose a draft model</source>
        <translation>选择草稿模型</translation>
    </message>
    <message>
        <source>Choose a model file first.</source>
        <translation>请先选择模型文件。</translation>
    </message>
    <message>
        <source>{title}:</source>
        <translation>{title}：</translation>
    </message>
    <message>
        <source>{title} label</source>
        <translation>{title} 标签</translation>
    </message>
</context>
</TS>
