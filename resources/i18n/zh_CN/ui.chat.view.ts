<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ChatView</name>
    <message>
        <source>You</source>
        <translation>你</translation>
    </message>
    <message>
        <source>Glassbox</source>
        <translation>Glassbox</translation>
    </message>
    <message>
        <source>System</source>
        <translation>系统</translation>
    </message>
    <message>
        <source>Drafted, accepted by the model</source>
        <translation>由草稿提议，模型已接受</translation>
    </message>
    <message>
        <source>Drawn by the model; the draft proposed another token</source>
        <translation>由模型抽取；草稿提议的是另一个词元</translation>
    </message>
    <message>
        <source>with the documents {with_p:.3f} · without them {without_p:.3f}</source>
        <translation>有文档 {with_p:.3f} · 无文档 {without_p:.3f}</translation>
    </message>
    <message>
        <source>from the documents</source>
        <translation>来自文档</translation>
    </message>
    <message>
        <source>The model decided to call a tool at this token. Among its top {n} candidates: a call {call} percent, plain text {text} percent.</source>
        <translation>模型在这个词元处决定调用工具。在前 {n} 个候选词元中：调用 {call}%，普通文本 {text}%。</translation>
    </message>
    <message>
        <source>Click ‘{text}’ to branch without the call.</source>
        <translation>点击“{text}”可创建不调用工具的分支。</translation>
    </message>
    <message>
        <source>call</source>
        <translation>调用</translation>
    </message>
    <message>
        <source>text</source>
        <translation>文本</translation>
    </message>
    <message>
        <source>token</source>
        <translation>词元</translation>
    </message>
    <message>
        <source>before</source>
        <translation>采样前</translation>
    </message>
    <message>
        <source>after</source>
        <translation>采样后</translation>
    </message>
    <message>
        <source>cut by</source>
        <translation>剔除阶段</translation>
    </message>
    <message>
        <source>starts</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>Click to branch from an alternative.</source>
        <translation>点击可从候选词元创建分支。</translation>
    </message>
    <message>
        <source>token ‘{text}’, {percent} percent, chosen by you</source>
        <translation>词元“{text}”，概率 {percent}%，由你选定</translation>
    </message>
    <message>
        <source>token ‘{text}’, {percent} percent</source>
        <translation>词元“{text}”，概率 {percent}%</translation>
    </message>
    <message>
        <source>{with_p} percent with the documents, {without_p} without them</source>
        <translation>有文档时百分之 {with_p}，无文档时百分之 {without_p}</translation>
    </message>
    <message>
        <source>‘{text}’ {percent} percent, cut by {stage}</source>
        <translation>“{text}”{percent}%，被 {stage} 剔除</translation>
    </message>
    <message>
        <source>‘{text}’ {percent} percent</source>
        <translation>“{text}”{percent}%</translation>
    </message>
    <message>
        <source>{token}; alternatives: {alternatives}</source>
        <translation>{token}；候选词元：{alternatives}</translation>
    </message>
    <message>
        <source>; </source>
        <translation>；</translation>
    </message>
    <message>
        <source>Unsupported: this sentence cites no source.</source>
        <translation>无依据：这句话没有引用任何来源。</translation>
    </message>
    <message>
        <source>Unsupported: the cited passage {cited} holds {percent}% of this sentence&apos;s key terms.</source>
        <translation>无依据：所引用的段落 {cited} 只包含这句话 {percent}% 的关键词。</translation>
    </message>
    <message>
        <source>Unsupported: it cites {cited}, which was not given.</source>
        <translation>无依据：它引用了 {cited}，但并未提供该来源。</translation>
    </message>
    <message>
        <source>Not in the passage: {terms}</source>
        <translation>段落中没有：{terms}</translation>
    </message>
    <message>
        <source>Key tokens (probability): {tokens}</source>
        <translation>关键词元（概率）：{tokens}</translation>
    </message>
    <message>
        <source>still being written</source>
        <translation>仍在生成中</translation>
    </message>
    <message>
        <source>interrupted: Glassbox closed while this reply was being written</source>
        <translation>已中断：生成此回复时 Glassbox 被关闭</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>ended with an error</source>
        <translation>因出错而结束</translation>
    </message>
    <message>
        <source>Transcript</source>
        <translation>对话记录</translation>
    </message>
    <message>
        <source>The conversation. Alt+Left and Alt+Right move between reply tokens; Enter opens a token&apos;s alternatives.</source>
        <translation>对话内容。Alt+左/右方向键在回复的词元之间移动；回车键打开词元的候选词元。</translation>
    </message>
    <message>
        <source>1 token</source>
        <translation>1 个词元</translation>
    </message>
    <message>
        <source>{n} tokens</source>
        <translation>{n} 个词元</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>编辑</translation>
    </message>
    <message>
        <source>Regenerate</source>
        <translation>重新生成</translation>
    </message>
    <message>
        <source>Continue</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>详情</translation>
    </message>
    <message>
        <source>Fork</source>
        <translation>派生</translation>
    </message>
    <message>
        <source>Delete branch</source>
        <translation>删除分支</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Copy code {n} ({language})</source>
        <translation>复制代码 {n}（{language}）</translation>
    </message>
    <message>
        <source>Copy code {n}</source>
        <translation>复制代码 {n}</translation>
    </message>
    <message>
        <source>Copy code ({language})</source>
        <translation>复制代码（{language}）</translation>
    </message>
    <message>
        <source>Copy code</source>
        <translation>复制代码</translation>
    </message>
    <message>
        <source>Sources:</source>
        <translation>来源：</translation>
    </message>
    <message>
        <source>edited</source>
        <translation>已编辑</translation>
    </message>
    <message>
        <source>Token alternatives</source>
        <translation>候选词元</translation>
    </message>
    <message>
        <source>Drawn: ‘{text}’  {p:.1%}</source>
        <translation>抽中：“{text}”  {p:.1%}</translation>
    </message>
    <message>
        <source>{p:.1%}, cut by {stage}</source>
        <translation>{p:.1%}，被 {stage} 剔除</translation>
    </message>
    <message>
        <source>Branch with ‘{text}’   {fate}</source>
        <translation>以“{text}”创建分支   {fate}</translation>
    </message>
    <message>
        <source>Generate the rest of the reply from this token instead.</source>
        <translation>改从此词元开始生成回复的其余部分。</translation>
    </message>
    <message>
        <source>No alternatives were recorded for this token.</source>
        <translation>此词元没有记录候选词元。</translation>
    </message>
    <message>
        <source>Open link</source>
        <translation>打开链接</translation>
    </message>
    <message>
        <source>Open this address in your web browser?</source>
        <translation>在网页浏览器中打开这个地址吗？</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <source>Do not open</source>
        <translation>不打开</translation>
    </message>
    <message>
        <source>Link not opened</source>
        <translation>未打开链接</translation>
    </message>
    <message>
        <source>Glassbox opens only web (http, https) and e-mail links; this one was not opened.</source>
        <translation>Glassbox 只打开网页（http、https）和电子邮件链接；这个链接没有打开。</translation>
    </message>
</context>
</TS>
