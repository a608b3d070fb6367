<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ModelAnatomy</name>
    <message>
        <source>Fits</source>
        <translation>可以装下</translation>
    </message>
    <message>
        <source>Tight</source>
        <translation>偏紧</translation>
    </message>
    <message>
        <source>Will not fit</source>
        <translation>装不下</translation>
    </message>
    <message>
        <source>Model contents and memory</source>
        <translation>模型组成与内存</translation>
    </message>
    <message>
        <source>Tensor types</source>
        <translation>张量类型</translation>
    </message>
    <message>
        <source>Tensors…</source>
        <translation>张量…</translation>
    </message>
    <message>
        <source>Show every tensor by layer</source>
        <translation>按层显示每个张量</translation>
    </message>
    <message>
        <source>Each tensor&apos;s type and shape, grouped by layer</source>
        <translation>每个张量的类型和形状，按层分组</translation>
    </message>
    <message>
        <source>Types</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Bits per weight</source>
        <translation>每权重位数</translation>
    </message>
    <message>
        <source>KV cache type</source>
        <translation>KV 缓存类型</translation>
    </message>
    <message>
        <source>{type} (the engine&apos;s)</source>
        <translation>{type}（引擎使用）</translation>
    </message>
    <message>
        <source>{type} (estimate only)</source>
        <translation>{type}（仅估算）</translation>
    </message>
    <message>
        <source>The engine keeps the KV cache in f16. q8_0 and q4_0 show what a quantized cache would take (llama.cpp needs flash attention for it).</source>
        <translation>引擎以 f16 保存 KV 缓存。q8_0 和 q4_0 显示量化缓存将占用的内存（llama.cpp 需要启用 flash attention 才能使用）。</translation>
    </message>
    <message>
        <source>KV cache</source>
        <translation>KV 缓存</translation>
    </message>
    <message>
        <source>Expected memory</source>
        <translation>预计内存</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>是否装得下</translation>
    </message>
    <message>
        <source>{title}:</source>
        <translation>{title}：</translation>
    </message>
    <message>
        <source>{title} label</source>
        <translation>{title} 标签</translation>
    </message>
    <message>
        <source>{size} at {n_ctx} tokens ({type})</source>
        <translation>{n_ctx} 个词元时 {size}（{type}）</translation>
    </message>
    <message>
        <source>{total}: weights {weights}, repacked weights {repacked}, KV cache {kv}, compute {compute}, runtime {runtime}</source>
        <translation>{total}：权重 {weights}，重排权重 {repacked}，KV 缓存 {kv}，计算缓冲 {compute}，运行时 {runtime}</translation>
    </message>
    <message>
        <source>Not known: this system does not say its memory.</source>
        <translation>未知：此系统不提供内存信息。</translation>
    </message>
    <message>
        <source>needs {needed} of {available} available ({total} RAM)</source>
        <translation>需要 {needed}，可用 {available}（内存共 {total}）</translation>
    </message>
    <message>
        <source>; GPU memory is not checked, all of it is counted in RAM</source>
        <translation>；未检查 GPU 显存，全部按内存计算</translation>
    </message>
</context>
<context>
    <name>TensorsDialog</name>
    <message>
        <source>Tensors of {name}</source>
        <translation>{name} 的张量</translation>
    </message>
    <message>
        <source>Tensors by layer</source>
        <translation>按层列出的张量</translation>
    </message>
    <message>
        <source>{count} tensors, {size}, {bpw:.2f} bits per weight: {shares}</source>
        <translation>{count} 个张量，{size}，每权重 {bpw:.2f} 位：{shares}</translation>
    </message>
    <message>
        <source>Tensor summary</source>
        <translation>张量摘要</translation>
    </message>
    <message>
        <source>Layer / tensor</source>
        <translation>层 / 张量</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Shape</source>
        <translation>形状</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Shapes in GGML order: the row length first. Sizes are the data in the file.</source>
        <translation>形状按 GGML 顺序：行长度在前。大小为文件中的数据量。</translation>
    </message>
    <message>
        <source>Tensor table note</source>
        <translation>张量表说明</translation>
    </message>
</context>
</TS>
