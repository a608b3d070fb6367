<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>KnowledgePanel</name>
    <message>
        <source>Knowledge</source>
        <translation>知识库</translation>
    </message>
    <message>
        <source>Knowledge panel</source>
        <translation>知识库面板</translation>
    </message>
    <message>
        <source>Knowledge panel contents</source>
        <translation>知识库面板内容</translation>
    </message>
    <message>
        <source>Knowledge error</source>
        <translation>知识库错误</translation>
    </message>
    <message>
        <source>Undo deleting a collection</source>
        <translation>撤销删除知识库集合</translation>
    </message>
    <message>
        <source>Knowledge panel scroll area</source>
        <translation>知识库面板滚动区域</translation>
    </message>
    <message>
        <source>Collections</source>
        <translation>文档集</translation>
    </message>
    <message>
        <source>Collection list</source>
        <translation>文档集列表</translation>
    </message>
    <message>
        <source>Select one or more collections; the current one&apos;s documents are listed below</source>
        <translation>选择一个或多个文档集；下方列出当前文档集的文档</translation>
    </message>
    <message>
        <source>New…</source>
        <translation>新建…</translation>
    </message>
    <message>
        <source>New collection</source>
        <translation>新建文档集</translation>
    </message>
    <message>
        <source>Rename…</source>
        <translation>重命名…</translation>
    </message>
    <message>
        <source>Rename collection</source>
        <translation>重命名文档集</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Delete collection</source>
        <translation>删除文档集</translation>
    </message>
    <message>
        <source>Delete the collection and its index (the files stay)</source>
        <translation>删除文档集及其索引（文件本身保留）</translation>
    </message>
    <message>
        <source>Location…</source>
        <translation>位置…</translation>
    </message>
    <message>
        <source>Collection location</source>
        <translation>文档集位置</translation>
    </message>
    <message>
        <source>Keep the collection&apos;s vectors on this computer or on a Chroma server</source>
        <translation>将文档集的向量保存在本机或 Chroma 服务器上</translation>
    </message>
    <message>
        <source>Collection embedding model</source>
        <translation>文档集的嵌入模型</translation>
    </message>
    <message>
        <source>Change embedding model…</source>
        <translation>更换嵌入模型…</translation>
    </message>
    <message>
        <source>Change embedding model</source>
        <translation>更换嵌入模型</translation>
    </message>
    <message>
        <source>Embed every passage of the collection again with another model</source>
        <translation>用另一个模型重新嵌入文档集的每个段落</translation>
    </message>
    <message>
        <source>Trash</source>
        <translation>回收站</translation>
    </message>
    <message>
        <source>Deleted collections, kept for 7 days, then deleted for good</source>
        <translation>已删除的集合，保留 7 天后永久删除</translation>
    </message>
    <message>
        <source>Deleted collections</source>
        <translation>已删除的集合</translation>
    </message>
    <message>
        <source>Restore</source>
        <translation>恢复</translation>
    </message>
    <message>
        <source>Restore collection</source>
        <translation>恢复集合</translation>
    </message>
    <message>
        <source>Bring the selected collection back</source>
        <translation>恢复所选集合</translation>
    </message>
    <message>
        <source>Documents</source>
        <translation>文档</translation>
    </message>
    <message>
        <source>Document table</source>
        <translation>文档表</translation>
    </message>
    <message>
        <source>Add files…</source>
        <translation>添加文件…</translation>
    </message>
    <message>
        <source>Add files</source>
        <translation>添加文件</translation>
    </message>
    <message>
        <source>Add folder…</source>
        <translation>添加文件夹…</translation>
    </message>
    <message>
        <source>Add folder</source>
        <translation>添加文件夹</translation>
    </message>
    <message>
        <source>Re-index</source>
        <translation>重新索引</translation>
    </message>
    <message>
        <source>Re-index documents</source>
        <translation>重新索引文档</translation>
    </message>
    <message>
        <source>Parse and embed the selected documents again</source>
        <translation>重新解析并嵌入选中的文档</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Remove documents</source>
        <translation>移除文档</translation>
    </message>
    <message>
        <source>Remove the selected documents from the collection</source>
        <translation>从文档集中移除选中的文档</translation>
    </message>
    <message>
        <source>Watched folders</source>
        <translation>监视的文件夹</translation>
    </message>
    <message>
        <source>Folders kept indexed: changed files are indexed again, deleted files removed, unchanged files skipped</source>
        <translation>保持索引更新的文件夹：有变化的文件重新索引，已删除的文件被移除，未变的文件跳过</translation>
    </message>
    <message>
        <source>Watched folder list</source>
        <translation>监视的文件夹列表</translation>
    </message>
    <message>
        <source>Watch folder…</source>
        <translation>监视文件夹…</translation>
    </message>
    <message>
        <source>Watch folder</source>
        <translation>监视文件夹</translation>
    </message>
    <message>
        <source>Index a folder now and keep it indexed as it changes</source>
        <translation>立即索引文件夹，并在其变化时保持索引更新</translation>
    </message>
    <message>
        <source>Stop watching</source>
        <translation>停止监视</translation>
    </message>
    <message>
        <source>Stop watching folder</source>
        <translation>停止监视文件夹</translation>
    </message>
    <message>
        <source>also remove its documents</source>
        <translation>同时移除其文档</translation>
    </message>
    <message>
        <source>Also remove its documents</source>
        <translation>同时移除其文档</translation>
    </message>
    <message>
        <source>Stop watching and remove the folder&apos;s documents from the collection</source>
        <translation>停止监视，并从文档集中移除该文件夹的文档</translation>
    </message>
    <message>
        <source>Sync now</source>
        <translation>立即同步</translation>
    </message>
    <message>
        <source>Sync watched folders</source>
        <translation>同步监视的文件夹</translation>
    </message>
    <message>
        <source>Index what changed in the watched folders now</source>
        <translation>立即索引监视的文件夹中的变化</translation>
    </message>
    <message>
        <source>Indexing</source>
        <translation>索引</translation>
    </message>
    <message>
        <source>Indexing progress</source>
        <translation>索引进度</translation>
    </message>
    <message>
        <source>Nothing to index. Add files or drop them on the window.</source>
        <translation>没有需要索引的内容。请添加文件，或把文件拖放到窗口上。</translation>
    </message>
    <message>
        <source>Indexing status</source>
        <translation>索引状态</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Pause indexing</source>
        <translation>暂停索引</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Cancel indexing</source>
        <translation>取消索引</translation>
    </message>
    <message>
        <source>Stop; what was indexed stays, the rest resumes next time</source>
        <translation>停止；已索引的内容保留，其余下次继续</translation>
    </message>
    <message>
        <source>Show skipped files</source>
        <translation>显示跳过的文件</translation>
    </message>
    <message>
        <source>Skipped files</source>
        <translation>跳过的文件</translation>
    </message>
    <message>
        <source>Hide skipped files</source>
        <translation>隐藏跳过的文件</translation>
    </message>
    <message>
        <source>Health</source>
        <translation>健康状况</translation>
    </message>
    <message>
        <source>Collection summary</source>
        <translation>文档集概况</translation>
    </message>
    <message>
        <source>Duplicate chunks</source>
        <translation>重复文本块</translation>
    </message>
    <message>
        <source>Document languages</source>
        <translation>文档语言</translation>
    </message>
    <message>
        <source>Failed documents</source>
        <translation>失败的文档</translation>
    </message>
    <message>
        <source>Never retrieved</source>
        <translation>从未检索到</translation>
    </message>
    <message>
        <source>Vector index</source>
        <translation>向量索引</translation>
    </message>
    <message>
        <source>Test query</source>
        <translation>测试查询</translation>
    </message>
    <message>
        <source>Test query text</source>
        <translation>测试查询文本</translation>
    </message>
    <message>
        <source>Ask the selected collections, e.g. 知识蒸馏</source>
        <translation>向选中的文档集提问，例如 知识蒸馏</translation>
    </message>
    <message>
        <source>Passages to retrieve</source>
        <translation>要检索的段落数</translation>
    </message>
    <message>
        <source>How many passages (top-k)</source>
        <translation>检索多少个段落（top-k）</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>搜索</translation>
    </message>
    <message>
        <source>Run test query</source>
        <translation>运行测试查询</translation>
    </message>
    <message>
        <source>Test query hits</source>
        <translation>测试查询结果</translation>
    </message>
    <message>
        <source>Vector: cosine similarity · Keyword and fused: rank scores.</source>
        <translation>向量：余弦相似度 · 关键词和融合：排名分数。</translation>
    </message>
    <message>
        <source>Test query status</source>
        <translation>测试查询状态</translation>
    </message>
    <message>
        <source>Starting to index {count} item(s) into {name}…</source>
        <translation>开始将 {count} 项索引到 {name}…</translation>
    </message>
    <message>
        <source>Watching {folder}: indexing it into {name}…</source>
        <translation>正在监视 {folder}：将其索引到 {name}…</translation>
    </message>
    <message>
        <source>Stop; the collection keeps its current model and vectors</source>
        <translation>停止；文档集保留当前的模型和向量</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Resume indexing</source>
        <translation>继续索引</translation>
    </message>
    <message>
        <source>Chinese</source>
        <translation>中文</translation>
    </message>
    <message>
        <source>English</source>
        <translation>英文</translation>
    </message>
    <message>
        <source>Japanese</source>
        <translation>日文</translation>
    </message>
    <message>
        <source>Korean</source>
        <translation>韩文</translation>
    </message>
    <message>
        <source>Languages: not counted yet</source>
        <translation>语言：尚未统计</translation>
    </message>
    <message>
        <source>Languages: {shares}</source>
        <translation>语言：{shares}</translation>
    </message>
    <message>
        <source>No collection selected.</source>
        <translation>未选择文档集。</translation>
    </message>
    <message>
        <source>{documents} documents ({indexed} indexed, {pending} pending, {failed} failed) · {chunks} chunks · {size} · {model}</source>
        <translation>{documents} 个文档（{indexed} 个已索引，{pending} 个待处理，{failed} 个失败） · {chunks} 个文本块 · {size} · {model}</translation>
    </message>
    <message>
        <source>Duplicate chunks: {count} (the same passage in several documents)</source>
        <translation>重复文本块：{count}（同一段落出现在多个文档中）</translation>
    </message>
    <message>
        <source>Duplicate chunks: {count}</source>
        <translation>重复文本块：{count}</translation>
    </message>
    <message>
        <source>Failed documents: {count}</source>
        <translation>失败的文档：{count}</translation>
    </message>
    <message>
        <source>… and {count} more</source>
        <translation>… 另有 {count} 个</translation>
    </message>
    <message>
        <source>Documents never retrieved: {count}</source>
        <translation>从未检索到的文档：{count}</translation>
    </message>
    <message>
        <source>Vector index: {vectors} of {chunks} chunks</source>
        <translation>向量索引：{chunks} 个文本块中的 {vectors} 个</translation>
    </message>
    <message>
        <source>Vector index: {vectors} of {chunks} chunks (the rest is still being embedded)</source>
        <translation>向量索引：{chunks} 个文本块中的 {vectors} 个（其余仍在嵌入）</translation>
    </message>
    <message>
        <source>Searching {names}…</source>
        <translation>正在搜索 {names}…</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>名称：</translation>
    </message>
    <message>
        <source>Embedding model: no collection chosen</source>
        <translation>嵌入模型：未选择文档集</translation>
    </message>
    <message>
        <source>Embedding model: {model}</source>
        <translation>嵌入模型：{model}</translation>
    </message>
    <message>
        <source>Embedding “{name}” again with {model}…</source>
        <translation>正在用 {model} 重新嵌入“{name}”…</translation>
    </message>
    <message>
        <source>{name} — deleted {when}, kept until {until}</source>
        <translation>{name} — 删除于 {when}，保留至 {until}</translation>
    </message>
    <message>
        <source>Delete the collection “{name}” and its {count} document(s) from the knowledge base? The files themselves stay where they are.</source>
        <translation>要从知识库中删除文档集“{name}”及其 {count} 个文档吗？文件本身仍保留在原处。</translation>
    </message>
    <message>
        <source>Delete the collection “{name}” from the knowledge base? The files themselves stay where they are.</source>
        <translation>要从知识库中删除文档集“{name}”吗？文件本身仍保留在原处。</translation>
    </message>
    <message>
        <source>Moved “{name}” to the trash (emptied after 7 days).</source>
        <translation>已将“{name}”移入回收站（7 天后清空）。</translation>
    </message>
    <message>
        <source>Stop watching {folder} and remove its documents from “{name}”? The files themselves stay.</source>
        <translation>要停止监视 {folder}，并从“{name}”中移除其文档吗？文件本身会保留。</translation>
    </message>
    <message>
        <source>Syncing the watched folders of {name}…</source>
        <translation>正在同步 {name} 的监视文件夹…</translation>
    </message>
    <message>
        <source>Re-indexing {count} document(s)…</source>
        <translation>正在重新索引 {count} 个文档…</translation>
    </message>
    <message>
        <source>Remove {file} from “{name}”? The files themselves stay.</source>
        <translation>要从“{name}”中移除 {file} 吗？文件本身会保留。</translation>
    </message>
    <message>
        <source>Remove {count} documents from “{name}”? The files themselves stay.</source>
        <translation>要从“{name}”中移除 {count} 个文档吗？文件本身会保留。</translation>
    </message>
    <message>
        <source>{progress} · pausing…</source>
        <translation>{progress} · 正在暂停…</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <source>{name}  ({documents} docs · {chunks} chunks)</source>
        <translation>{name}  （{documents} 个文档 · {chunks} 个文本块）</translation>
    </message>
    <message>
        <source>{collection} · on {server}</source>
        <translation>{collection} · 位于 {server}</translation>
    </message>
    <message>
        <source>Vectors on the Chroma server {url}</source>
        <translation>向量存放在 Chroma 服务器 {url} 上</translation>
    </message>
    <message>
        <source>Vectors on this computer</source>
        <translation>向量存放在本机</translation>
    </message>
    <message>
        <source>“{name}” was not embedded again with {new}: it still uses {old}. The reason is shown above.</source>
        <translation>“{name}”未能用 {new} 重新嵌入：它仍使用 {old}。原因见上方。</translation>
    </message>
    <message>
        <source>cosine similarity</source>
        <translation>余弦相似度</translation>
    </message>
    <message>
        <source>keyword rank score (BM25 lists fused)</source>
        <translation>关键词排名分数（融合 BM25 列表）</translation>
    </message>
    <message>
        <source>reciprocal-rank fusion of both sides</source>
        <translation>两侧的倒数排名融合</translation>
    </message>
    <message>
        <source>{count} hit(s) in {seconds} s. Double-click one to see it in its document.</source>
        <translation>{count} 条结果，用时 {seconds} 秒。双击一条可在其文档中查看。</translation>
    </message>
    <message>
        <source>No passage found.</source>
        <translation>未找到段落。</translation>
    </message>
</context>
</TS>
