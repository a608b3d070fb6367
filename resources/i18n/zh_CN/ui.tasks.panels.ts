<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>DocumentBatchTab</name>
    <message>
        <source>Cancelled after {n} of {total} document(s), {failed} failed.</source>
        <translation>已在完成 {n}/{total} 个文档后取消，{failed} 个失败。</translation>
    </message>
    <message>
        <source>Cancelled after {n} of {total} document(s).</source>
        <translation>已在完成 {n}/{total} 个文档后取消。</translation>
    </message>
</context>
<context>
    <name>RewriteTab</name>
    <message>
        <source>Rewrite</source>
        <translation>改写</translation>
    </message>
    <message>
        <source>Rewrite mode</source>
        <translation>改写方式</translation>
    </message>
    <message>
        <source>Polish</source>
        <translation>润色</translation>
    </message>
    <message>
        <source>Fix grammar and spelling</source>
        <translation>修正语法和拼写</translation>
    </message>
    <message>
        <source>Simplify</source>
        <translation>简化</translation>
    </message>
    <message>
        <source>Tone: formal</source>
        <translation>语气：正式</translation>
    </message>
    <message>
        <source>Tone: friendly</source>
        <translation>语气：友好</translation>
    </message>
    <message>
        <source>Tone: concise</source>
        <translation>语气：简洁</translation>
    </message>
    <message>
        <source>Translate</source>
        <translation>翻译</translation>
    </message>
    <message>
        <source>Translate to language</source>
        <translation>翻译成的语言</translation>
    </message>
    <message>
        <source>English</source>
        <translation>英语</translation>
    </message>
    <message>
        <source>Mode</source>
        <translation>方式</translation>
    </message>
    <message>
        <source>into</source>
        <translation>译为</translation>
    </message>
    <message>
        <source>A text to rewrite; open several files or documents for a batch.</source>
        <translation>要改写的文本；打开多个文件或文档可批量处理。</translation>
    </message>
    <message>
        <source>Rewrite comparison</source>
        <translation>改写对比</translation>
    </message>
    <message>
        <source>Original side</source>
        <translation>原文一侧</translation>
    </message>
    <message>
        <source>Original (removed words struck through)</source>
        <translation>原文（删除的词加删除线）</translation>
    </message>
    <message>
        <source>Original with removals</source>
        <translation>标出删除内容的原文</translation>
    </message>
    <message>
        <source>Rewrite side</source>
        <translation>改写一侧</translation>
    </message>
    <message>
        <source>Rewrite (added words highlighted)</source>
        <translation>改写（新增的词高亮）</translation>
    </message>
    <message>
        <source>Rewrite with additions</source>
        <translation>标出新增内容的改写</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Copy rewrite</source>
        <translation>复制改写</translation>
    </message>
    <message>
        <source>Accept</source>
        <translation>采用</translation>
    </message>
    <message>
        <source>Accept rewrite</source>
        <translation>采用改写</translation>
    </message>
    <message>
        <source>Replace the input with the rewrite</source>
        <translation>用改写结果替换输入</translation>
    </message>
    <message>
        <source>Show tokens</source>
        <translation>显示词元</translation>
    </message>
    <message>
        <source>Show rewrite tokens</source>
        <translation>显示改写的词元</translation>
    </message>
    <message>
        <source>There is no text to rewrite.</source>
        <translation>没有要改写的文本。</translation>
    </message>
    <message>
        <source>Rewriting</source>
        <translation>正在改写</translation>
    </message>
    <message>
        <source>Rewriting {n} documents</source>
        <translation>正在改写 {n} 个文档</translation>
    </message>
    <message>
        <source>Rewriting {i} of {n}: {name}…</source>
        <translation>正在改写第 {i}/{n} 个：{name}…</translation>
    </message>
    <message>
        <source>Rewritten: {removed} word(s) removed, {added} added.</source>
        <translation>已改写：删除 {removed} 个词，新增 {added} 个。</translation>
    </message>
    <message>
        <source>Rewrote {n} document(s), {failed} failed.</source>
        <translation>已改写 {n} 个文档，{failed} 个失败。</translation>
    </message>
    <message>
        <source>Rewrote {n} document(s).</source>
        <translation>已改写 {n} 个文档。</translation>
    </message>
    <message>
        <source>The rewrite replaced the input.</source>
        <translation>改写结果已替换输入。</translation>
    </message>
</context>
<context>
    <name>SearchTab</name>
    <message>
        <source>Search task</source>
        <translation>搜索任务</translation>
    </message>
    <message>
        <source>Search query</source>
        <translation>搜索查询</translation>
    </message>
    <message>
        <source>Search a collection by meaning and by words</source>
        <translation>按语义和词语搜索文档集</translation>
    </message>
    <message>
        <source>Search collection</source>
        <translation>搜索的文档集</translation>
    </message>
    <message>
        <source>Number of results</source>
        <translation>结果数量</translation>
    </message>
    <message>
        <source>top </source>
        <translation>前 </translation>
    </message>
    <message>
        <source>Search</source>
        <translation>搜索</translation>
    </message>
    <message>
        <source>Run search</source>
        <translation>运行搜索</translation>
    </message>
    <message>
        <source>Search status</source>
        <translation>搜索状态</translation>
    </message>
    <message>
        <source>Search results</source>
        <translation>搜索结果</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Score</source>
        <translation>得分</translation>
    </message>
    <message>
        <source>Vector</source>
        <translation>向量</translation>
    </message>
    <message>
        <source>Keyword</source>
        <translation>关键词</translation>
    </message>
    <message>
        <source>Search hits</source>
        <translation>搜索命中</translation>
    </message>
    <message>
        <source>Double-click a hit to open it in its document.</source>
        <translation>双击命中项可在其文档中打开。</translation>
    </message>
    <message>
        <source>Matched passage</source>
        <translation>匹配的段落</translation>
    </message>
    <message>
        <source>Type a query and choose a collection (add documents in Knowledge).</source>
        <translation>请输入查询并选择文档集（在“知识库”中添加文档）。</translation>
    </message>
    <message>
        <source>Searching “{name}”…</source>
        <translation>正在搜索“{name}”…</translation>
    </message>
    <message>
        <source>page {n}</source>
        <translation>第 {n} 页</translation>
    </message>
    <message>
        <source>by meaning</source>
        <translation>按语义</translation>
    </message>
    <message>
        <source>{path} {where}; matched: {terms}</source>
        <translation>{path} {where}；匹配：{terms}</translation>
    </message>
    <message>
        <source>{path}
matched: {terms}</source>
        <translation>{path}
匹配：{terms}</translation>
    </message>
    <message>
        <source>{n} passage(s) found.</source>
        <translation>找到 {n} 个段落。</translation>
    </message>
    <message>
        <source>No passage found.</source>
        <translation>未找到段落。</translation>
    </message>
</context>
<context>
    <name>SummarizeTab</name>
    <message>
        <source>Summarize</source>
        <translation>摘要</translation>
    </message>
    <message>
        <source>Summary length</source>
        <translation>摘要长度</translation>
    </message>
    <message>
        <source>A sentence</source>
        <translation>一句话</translation>
    </message>
    <message>
        <source>A paragraph</source>
        <translation>一段话</translation>
    </message>
    <message>
        <source>Bullet points</source>
        <translation>要点列表</translation>
    </message>
    <message>
        <source>A word count</source>
        <translation>指定字数</translation>
    </message>
    <message>
        <source>Summary word count</source>
        <translation>摘要字数</translation>
    </message>
    <message>
        <source> words</source>
        <translation> 词</translation>
    </message>
    <message>
        <source>Summary audience</source>
        <translation>摘要读者</translation>
    </message>
    <message>
        <source>a general reader</source>
        <translation>普通读者</translation>
    </message>
    <message>
        <source>Summary language</source>
        <translation>摘要语言</translation>
    </message>
    <message>
        <source>the language of the text</source>
        <translation>与原文相同的语言</translation>
    </message>
    <message>
        <source>Length</source>
        <translation>长度</translation>
    </message>
    <message>
        <source>Audience</source>
        <translation>读者</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>A text to summarize. Long texts are summarized in parts; open several files or documents for a batch.</source>
        <translation>要摘要的文本。长文本会分段摘要；打开多个文件或文档可批量处理。</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>摘要</translation>
    </message>
    <message>
        <source>Summary results</source>
        <translation>摘要结果</translation>
    </message>
    <message>
        <source>Summary parts</source>
        <translation>摘要分段</translation>
    </message>
    <message>
        <source>The parts a long text was cut into; select one to read it.</source>
        <translation>长文本被切分成的各段；选择一段即可阅读。</translation>
    </message>
    <message>
        <source>Show tokens</source>
        <translation>显示词元</translation>
    </message>
    <message>
        <source>Show summary tokens</source>
        <translation>显示摘要的词元</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Copy summary</source>
        <translation>复制摘要</translation>
    </message>
    <message>
        <source>There is no text to summarize.</source>
        <translation>没有要摘要的文本。</translation>
    </message>
    <message>
        <source>Summarizing</source>
        <translation>正在摘要</translation>
    </message>
    <message>
        <source>This engine cannot count tokens to plan a summary.</source>
        <translation>该推理引擎无法统计词元，无法规划摘要。</translation>
    </message>
    <message>
        <source>Summarizing {n} documents</source>
        <translation>正在摘要 {n} 个文档</translation>
    </message>
    <message>
        <source>Summarizing {i} of {n}: {name}…</source>
        <translation>正在摘要第 {i}/{n} 个：{name}…</translation>
    </message>
    <message>
        <source>Summarized in {n} parts, then combined.</source>
        <translation>已分 {n} 段摘要，然后合并。</translation>
    </message>
    <message>
        <source>Summarized in one pass.</source>
        <translation>已一次完成摘要。</translation>
    </message>
    <message>
        <source>Summarizing: combining the parts ({step}/{steps})…</source>
        <translation>正在摘要：合并各段（{step}/{steps}）…</translation>
    </message>
    <message>
        <source>Summarizing: done ({step}/{steps})</source>
        <translation>正在摘要：完成（{step}/{steps}）</translation>
    </message>
    <message>
        <source>Summarizing: part {part} of {parts} ({step}/{steps})…</source>
        <translation>正在摘要：第 {part}/{parts} 段（{step}/{steps}）…</translation>
    </message>
    <message>
        <source>Summarizing: {label} ({step}/{steps})…</source>
        <translation>正在摘要：{label}（{step}/{steps}）…</translation>
    </message>
    <message>
        <source>Summarized {n} document(s), {failed} failed.</source>
        <translation>已摘要 {n} 个文档，{failed} 个失败。</translation>
    </message>
    <message>
        <source>Summarized {n} document(s).</source>
        <translation>已摘要 {n} 个文档。</translation>
    </message>
    <message>
        <source>part {i} · {n} words</source>
        <translation>第 {i} 段 · {n} 词</translation>
    </message>
    <message>
        <source>── part {i}: its summary ──</source>
        <translation>── 第 {i} 段：摘要 ──</translation>
    </message>
    <message>
        <source>── part {i}: its text ──</source>
        <translation>── 第 {i} 段：原文 ──</translation>
    </message>
</context>
<context>
    <name>TasksPanel</name>
    <message>
        <source>Tasks</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>Tasks panel</source>
        <translation>任务面板</translation>
    </message>
    <message>
        <source>Summarize</source>
        <translation>摘要</translation>
    </message>
    <message>
        <source>Extract</source>
        <translation>提取</translation>
    </message>
    <message>
        <source>Classify</source>
        <translation>分类</translation>
    </message>
    <message>
        <source>Rewrite</source>
        <translation>改写</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>搜索</translation>
    </message>
    <message>
        <source>{title} tab</source>
        <translation>{title}标签页</translation>
    </message>
</context>
</TS>
