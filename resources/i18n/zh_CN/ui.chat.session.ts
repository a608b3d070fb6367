<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ChatSession</name>
    <message>
        <source>This chat could not be read completely: {detail}</source>
        <translation>无法完整读取此对话：{detail}</translation>
    </message>
    <message>
        <source>Forked into a new chat.</source>
        <translation>已派生为新对话。</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>Reading the whole documents of {names}…</source>
        <translation>正在读取 {names} 的完整文档…</translation>
    </message>
    <message>
        <source>Writing the question in the documents&apos; language</source>
        <translation>正在把问题写成文档的语言</translation>
    </message>
    <message>
        <source>Writing the question in the documents&apos; language…</source>
        <translation>正在把问题写成文档的语言…</translation>
    </message>
    <message>
        <source>Rewriting the question</source>
        <translation>正在改写问题</translation>
    </message>
    <message>
        <source>Listing the terms an answer would name</source>
        <translation>正在列出答案会提到的术语</translation>
    </message>
    <message>
        <source>Rewriting the question into other phrasings…</source>
        <translation>正在将问题改写为其他表述…</translation>
    </message>
    <message>
        <source>Listing the commands, files and terms an answer would name…</source>
        <translation>正在列出答案会提到的命令、文件和术语…</translation>
    </message>
    <message>
        <source>The attached collections have no indexed document.</source>
        <translation>所附集合中没有已索引的文档。</translation>
    </message>
    <message>
        <source>{n} documents are in scope; whole-document mode gives at most {most}. Narrow the scope with the filters, or untick “Use whole documents”.</source>
        <translation>范围内有 {n} 个文档；完整文档模式最多提供 {most} 个。请用筛选条件缩小范围，或取消勾选“使用完整文档”。</translation>
    </message>
    <message>
        <source>The {n} document(s) take about {tokens} tokens; the model&apos;s context of {n_ctx} leaves {budget} for them with room for the answer. Untick “Use whole documents”, narrow the scope, or load the model with a larger context.</source>
        <translation>这 {n} 个文档约占 {tokens} 个词元；模型 {n_ctx} 的上下文在为回答留出余地后只剩 {budget} 个给它们。请取消勾选“使用完整文档”、缩小范围，或以更大的上下文加载模型。</translation>
    </message>
    <message>
        <source>Answering from {n} whole document(s), about {tokens} tokens.</source>
        <translation>根据 {n} 个完整文档回答，约 {tokens} 个词元。</translation>
    </message>
    <message>
        <source>Could not write the question in the documents&apos; language; searching with the question as asked.</source>
        <translation>无法把问题写成文档的语言；将按原问题搜索。</translation>
    </message>
    <message>
        <source>Searching {names}…</source>
        <translation>正在搜索 {names}…</translation>
    </message>
    <message>
        <source>Judging the passages</source>
        <translation>正在评判段落</translation>
    </message>
    <message>
        <source>The model is judging {n} passage(s)…</source>
        <translation>模型正在评判 {n} 个段落…</translation>
    </message>
    <message>
        <source>Found {n} passage(s); answering from them.</source>
        <translation>找到 {n} 个段落，将据此回答。</translation>
    </message>
    <message>
        <source>Nothing relevant was found in the attached documents.</source>
        <translation>在附加的文档中没有找到相关内容。</translation>
    </message>
    <message>
        <source>Could not rewrite the question ({detail}).</source>
        <translation>无法改写问题（{detail}）。</translation>
    </message>
    <message>
        <source>Could not judge the passages ({detail}).</source>
        <translation>无法评判段落（{detail}）。</translation>
    </message>
    <message>
        <source>The document search failed: {detail}</source>
        <translation>文档搜索失败：{detail}</translation>
    </message>
    <message>
        <source>A tool call&apos;s arguments are written under its grammar: branch at the token where the model decided to call, or in its text.</source>
        <translation>工具调用的参数是按语法写出的：请在模型决定调用的那个词元处或在它的文字中分支。</translation>
    </message>
    <message>
        <source>That alternative was not recorded for this token.</source>
        <translation>此词元没有记录该候选词元。</translation>
    </message>
    <message>
        <source>This reply was drafted with a draft model that is not loaded now, so it is replayed without one; above temperature 0 its tokens may differ. Load the draft model (Model panel → Speed) to replay it exactly.</source>
        <translation>这条回复是借助草稿模型生成的，但该草稿模型现在没有加载，因此重放时不使用草稿模型；温度高于 0 时词元可能不同。请加载该草稿模型（模型面板 → 速度）以完全重放。</translation>
    </message>
    <message>
        <source>Stopped before the reply began.</source>
        <translation>已在回复开始前停止。</translation>
    </message>
    <message>
        <source>Load a model first (Model menu or the Model panel).</source>
        <translation>请先加载模型（“模型”菜单或模型面板）。</translation>
    </message>
    <message>
        <source>Replay matches the original exactly.</source>
        <translation>重放结果与原回复完全一致。</translation>
    </message>
    <message>
        <source>Replay differs from the original (see the two branches).</source>
        <translation>重放结果与原回复不同（请查看两个分支）。</translation>
    </message>
    <message>
        <source>The last reply could not be saved: {detail}</source>
        <translation>无法保存最后一条回复：{detail}</translation>
    </message>
    <message>
        <source>{rate:.1f} tok/s</source>
        <translation>{rate:.1f} 词元/秒</translation>
    </message>
    <message>
        <source>replay</source>
        <translation>重放</translation>
    </message>
    <message>
        <source>answered from the whole documents ({n})</source>
        <translation>根据完整文档回答（{n} 个）</translation>
    </message>
    <message>
        <source>answered from {n} passage(s)</source>
        <translation>根据 {n} 个段落回答</translation>
    </message>
    <message>
        <source>most sentences are not supported by the passages they cite</source>
        <translation>大部分句子没有得到所引用段落的支持</translation>
    </message>
</context>
</TS>
