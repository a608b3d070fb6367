<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>MainWindow</name>
    <message>
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>Select the previous / next token of a reply</source>
        <translation>选择回复中的上一个/下一个词元</translation>
    </message>
    <message>
        <source>Enter (on a selected token)</source>
        <translation>Enter（在选中的词元上）</translation>
    </message>
    <message>
        <source>Show the token&apos;s alternatives</source>
        <translation>显示该词元的候选词元</translation>
    </message>
    <message>
        <source>Shift+Enter (in the message box)</source>
        <translation>Shift+Enter（在消息框中）</translation>
    </message>
    <message>
        <source>Start a new line</source>
        <translation>换行</translation>
    </message>
    <message>
        <source>Glassbox</source>
        <translation>Glassbox</translation>
    </message>
    <message>
        <source>Glassbox main window</source>
        <translation>Glassbox 主窗口</translation>
    </message>
    <message>
        <source>The conversation file was damaged and was set aside as {name}; a new one was started.</source>
        <translation>对话文件已损坏，已另存为 {name}；已新建一个对话文件。</translation>
    </message>
    <message>
        <source>Conversation</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>Transcript or welcome</source>
        <translation>对话记录或欢迎页</translation>
    </message>
    <message>
        <source>Undo deleting messages</source>
        <translation>撤销删除消息</translation>
    </message>
    <message>
        <source>Show probabilities</source>
        <translation>显示概率</translation>
    </message>
    <message>
        <source>Tint each reply token by the probability it was drawn with (Ctrl+T); hover a token to see its alternatives, click it to branch from one.</source>
        <translation>按采样时的概率为回复中的每个词元着色（Ctrl+T）；悬停词元可查看候选词元，点击可从某个候选词元派生分支。</translation>
    </message>
    <message>
        <source>low p → high p</source>
        <translation>低概率 → 高概率</translation>
    </message>
    <message>
        <source>Probability colour legend</source>
        <translation>概率颜色图例</translation>
    </message>
    <message>
        <source>Purple marks unlikely tokens, green likely ones, yellow almost certain ones.</source>
        <translation>紫色表示不太可能的词元，绿色表示较可能的词元，黄色表示几乎确定的词元。</translation>
    </message>
    <message>
        <source>Selected token</source>
        <translation>选中的词元</translation>
    </message>
    <message>
        <source>Editing</source>
        <translation>正在编辑</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>消息</translation>
    </message>
    <message>
        <source>Type a message. Enter sends, Shift+Enter starts a new line.</source>
        <translation>输入消息。Enter 发送，Shift+Enter 换行。</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Send the message (Enter)</source>
        <translation>发送消息（Enter）</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop the reply (Esc)</source>
        <translation>停止回复（Esc）</translation>
    </message>
    <message>
        <source>Chats</source>
        <translation>对话列表</translation>
    </message>
    <message>
        <source>Menu bar</source>
        <translation>菜单栏</translation>
    </message>
    <message>
        <source>&amp;Chat</source>
        <translation>对话(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;New chat</source>
        <translation>新建对话(&amp;N)</translation>
    </message>
    <message>
        <source>&amp;Search chats</source>
        <translation>搜索对话(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Focus the message box</source>
        <translation>聚焦到消息框(&amp;F)</translation>
    </message>
    <message>
        <source>S&amp;top the reply</source>
        <translation>停止回复(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Regenerate last reply</source>
        <translation>重新生成上一条回复(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Continue last reply</source>
        <translation>继续上一条回复(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Export chat</source>
        <translation>导出对话(&amp;E)</translation>
    </message>
    <message>
        <source>Markdown…</source>
        <translation>Markdown…</translation>
    </message>
    <message>
        <source>JSON…</source>
        <translation>JSON…</translation>
    </message>
    <message>
        <source>HTML with probabilities…</source>
        <translation>带概率的 HTML…</translation>
    </message>
    <message>
        <source>&amp;Import chats…</source>
        <translation>导入聊天(&amp;I)…</translation>
    </message>
    <message>
        <source>Se&amp;ttings…</source>
        <translation>设置(&amp;T)…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Model</source>
        <translation>模型(&amp;M)</translation>
    </message>
    <message>
        <source>Model menu</source>
        <translation>模型菜单</translation>
    </message>
    <message>
        <source>&amp;Open model file…</source>
        <translation>打开模型文件(&amp;O)…</translation>
    </message>
    <message>
        <source>Load the &amp;default model</source>
        <translation>加载默认模型(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Evaluate…</source>
        <translation>评估(&amp;E)…</translation>
    </message>
    <message>
        <source>Accuracy, calibration and speed of a model on a question set</source>
        <translation>模型在题目集上的准确率、校准和速度</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>Show &amp;probabilities</source>
        <translation>显示概率(&amp;P)</translation>
    </message>
    <message>
        <source>Mark &amp;drafted tokens</source>
        <translation>标记草稿词元(&amp;D)</translation>
    </message>
    <message>
        <source>Underline with dots the reply tokens a draft proposed and the model accepted</source>
        <translation>用点线标出由草稿提议并被模型接受的回复词元</translation>
    </message>
    <message>
        <source>Mark words from the &amp;documents</source>
        <translation>标记来自文档的词(&amp;O)</translation>
    </message>
    <message>
        <source>Underline in green the reply tokens the documents made much likelier (grounded replies with context-aware decoding on, α = 0 included)</source>
        <translation>用绿色下划线标出因文档而可能性大增的回复词元（开启上下文感知解码的有依据回复，包括 α = 0）</translation>
    </message>
    <message>
        <source>Show the &amp;Conversation panel</source>
        <translation>显示对话面板(&amp;C)</translation>
    </message>
    <message>
        <source>Show the &amp;Sampling panel</source>
        <translation>显示采样面板(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Theme</source>
        <translation>主题(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;Keyboard shortcuts</source>
        <translation>键盘快捷键(&amp;K)</translation>
    </message>
    <message>
        <source>Add Glassbox to the &amp;applications menu</source>
        <translation>将 Glassbox 添加到应用程序菜单(&amp;A)</translation>
    </message>
    <message>
        <source>System &amp;check…</source>
        <translation>系统检查(&amp;C)…</translation>
    </message>
    <message>
        <source>&amp;About Glassbox</source>
        <translation>关于 Glassbox(&amp;A)</translation>
    </message>
    <message>
        <source>Status bar</source>
        <translation>状态栏</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Model loading progress</source>
        <translation>模型加载进度</translation>
    </message>
    <message>
        <source>Tokens per second</source>
        <translation>每秒词元数</translation>
    </message>
    <message>
        <source>Context used</source>
        <translation>已用上下文</translation>
    </message>
    <message>
        <source>No model</source>
        <translation>无模型</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>The model may read {count} dropped file(s) in this chat.</source>
        <translation>模型可以在此对话中读取拖入的 {count} 个文件。</translation>
    </message>
    <message>
        <source>Adding {count} item(s) to “{collection}” in the background…</source>
        <translation>正在后台将 {count} 项添加到“{collection}”…</translation>
    </message>
    <message>
        <source>Glassbox could not be added to the applications menu: {reason}</source>
        <translation>无法将 Glassbox 添加到应用程序菜单：{reason}</translation>
    </message>
    <message>
        <source>Glassbox is in the applications menu ({path}).</source>
        <translation>Glassbox 已添加到应用程序菜单（{path}）。</translation>
    </message>
    <message>
        <source>The chats were restored from a backup.</source>
        <translation>对话已从备份恢复。</translation>
    </message>
    <message>
        <source>The local API is serving at {url}.</source>
        <translation>本地 API 正在 {url} 提供服务。</translation>
    </message>
    <message>
        <source>The local API is off.</source>
        <translation>本地 API 已关闭。</translation>
    </message>
    <message>
        <source>The new language is used when Glassbox restarts.</source>
        <translation>新语言将在 Glassbox 重启后生效。</translation>
    </message>
    <message>
        <source>Local API: {message}</source>
        <translation>本地 API：{message}</translation>
    </message>
    <message>
        <source>loaded again in safe mode: the first load stopped the engine ({reason})</source>
        <translation>已在安全模式下重新加载：第一次加载使引擎停止（{reason}）</translation>
    </message>
    <message>
        <source>no model loaded; GPU offload available</source>
        <translation>未加载模型；可使用 GPU 卸载</translation>
    </message>
    <message>
        <source>no model loaded; CPU build</source>
        <translation>未加载模型；CPU 版本</translation>
    </message>
    <message>
        <source>The window layout could not be saved.</source>
        <translation>无法保存窗口布局。</translation>
    </message>
    <message>
        <source>The local API could not start: {reason}</source>
        <translation>本地 API 无法启动：{reason}</translation>
    </message>
    <message>
        <source>Queued: the message is sent when the reply ends.</source>
        <translation>已排队：回复结束后发送此消息。</translation>
    </message>
    <message>
        <source>Stop the reply</source>
        <translation>停止回复</translation>
    </message>
    <message>
        <source>{n} queued message(s) wait to be sent after this reply.</source>
        <translation>有 {n} 条排队的消息等待在此回复之后发送。</translation>
    </message>
    <message>
        <source>Stop the reply and drop the queued messages, or stop only the reply and send them next?</source>
        <translation>停止回复并丢弃排队的消息，还是只停止回复、接着发送它们？</translation>
    </message>
    <message>
        <source>Stop and drop the queue</source>
        <translation>停止并丢弃队列</translation>
    </message>
    <message>
        <source>Stop the reply only</source>
        <translation>只停止回复</translation>
    </message>
    <message>
        <source>Keep writing</source>
        <translation>继续生成</translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation>已停止。</translation>
    </message>
    <message>
        <source>Editing your message: Enter saves it as a new branch, Esc cancels.</source>
        <translation>正在编辑你的消息：Enter 保存为新分支，Esc 取消。</translation>
    </message>
    <message>
        <source>Editing the reply: Enter saves it as a new branch, Esc cancels.</source>
        <translation>正在编辑回复：Enter 保存为新分支，Esc 取消。</translation>
    </message>
    <message>
        <source>Source [{n}] is not recorded for this reply.</source>
        <translation>此回复没有记录来源 [{n}]。</translation>
    </message>
    <message>
        <source>Copied the message.</source>
        <translation>已复制消息。</translation>
    </message>
    <message>
        <source>Copied the code block.</source>
        <translation>已复制代码块。</translation>
    </message>
    <message>
        <source>Copied.</source>
        <translation>已复制。</translation>
    </message>
    <message>
        <source>Import chats</source>
        <translation>导入聊天</translation>
    </message>
    <message>
        <source>Glassbox or ChatGPT exports (*.json *.zip);;All files (*)</source>
        <translation>Glassbox 或 ChatGPT 导出文件 (*.json *.zip);;所有文件 (*)</translation>
    </message>
    <message>
        <source>An import is already running; wait for it to finish.</source>
        <translation>已有一个导入正在进行，请等它完成。</translation>
    </message>
    <message>
        <source>Importing chats from {path}…</source>
        <translation>正在从 {path} 导入聊天…</translation>
    </message>
    <message>
        <source>Nothing was added from {file}: its {n} chats were already imported, so they were skipped.</source>
        <translation>没有从 {file} 添加任何内容：其中的 {n} 个聊天之前已导入，因此已跳过。</translation>
    </message>
    <message>
        <source>Chats imported from {file}: {chats}, with {messages} messages. Hover over a chat in the sidebar to see where it came from.</source>
        <translation>已从 {file} 导入 {chats} 个聊天，共 {messages} 条消息。将鼠标悬停在侧栏中的聊天上可查看其来源。</translation>
    </message>
    <message>
        <source>{n} already imported before were skipped.</source>
        <translation>之前已导入的 {n} 个聊天已跳过。</translation>
    </message>
    <message>
        <source>Markdown (*.md)</source>
        <translation>Markdown (*.md)</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <source>HTML (*.html)</source>
        <translation>HTML (*.html)</translation>
    </message>
    <message>
        <source>Export chat</source>
        <translation>导出对话</translation>
    </message>
    <message>
        <source>Could not write {path}: {reason}</source>
        <translation>无法写入 {path}：{reason}</translation>
    </message>
    <message>
        <source>Exported to {path}.</source>
        <translation>已导出到 {path}。</translation>
    </message>
    <message>
        <source>Chat deleted. Undo brings it back.</source>
        <translation>对话已删除。撤销可恢复。</translation>
    </message>
    <message>
        <source>New chat in the project “{name}”, with its settings.</source>
        <translation>已在项目“{name}”中新建对话，并使用其设置。</translation>
    </message>
    <message>
        <source>Deleted the message.</source>
        <translation>已删除该消息。</translation>
    </message>
    <message>
        <source>Deleted the message and the {n} after it.</source>
        <translation>已删除该消息及其后的 {n} 条消息。</translation>
    </message>
    <message>
        <source>Undo brings it back.</source>
        <translation>点击“撤销”可恢复。</translation>
    </message>
    <message>
        <source>Context length {n_ctx:,}: load the model again to use it.</source>
        <translation>上下文长度 {n_ctx:,}：重新加载模型后生效。</translation>
    </message>
    <message>
        <source>The preset&apos;s sampling values are not valid: {reason}</source>
        <translation>该预设的采样值无效：{reason}</translation>
    </message>
    <message>
        <source>Preset “{name}” applied.</source>
        <translation>已应用预设“{name}”。</translation>
    </message>
    <message>
        <source>Preset “{name}” saved.</source>
        <translation>已保存预设“{name}”。</translation>
    </message>
    <message>
        <source>Open a GGUF model</source>
        <translation>打开 GGUF 模型</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation>GGUF 模型 (*.gguf);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Generating…</source>
        <translation>正在生成…</translation>
    </message>
    <message>
        <source>Generating… {count} tokens</source>
        <translation>正在生成… {count} 个词元</translation>
    </message>
    <message>
        <source>{title} — Glassbox</source>
        <translation>{title} — Glassbox</translation>
    </message>
    <message>
        <source>Load a model first (Model menu or the Model panel).</source>
        <translation>请先加载模型（“模型”菜单或模型面板）。</translation>
    </message>
    <message>
        <source>Context {used:,} / {total:,}</source>
        <translation>上下文 {used:,} / {total:,}</translation>
    </message>
    <message>
        <source>{share:.0%} of the context window used</source>
        <translation>已使用上下文窗口的 {share:.0%}</translation>
    </message>
    <message>
        <source>Preparing default model…</source>
        <translation>正在准备默认模型…</translation>
    </message>
    <message>
        <source>Preparing model…</source>
        <translation>正在准备模型…</translation>
    </message>
    <message>
        <source>Preparing default model… {percent}%</source>
        <translation>正在准备默认模型… {percent}%</translation>
    </message>
    <message>
        <source>Preparing model… {percent}%</source>
        <translation>正在准备模型… {percent}%</translation>
    </message>
    <message>
        <source>Loading {name}…</source>
        <translation>正在加载 {name}…</translation>
    </message>
    <message>
        <source>Connecting to {url}…</source>
        <translation>正在连接 {url}…</translation>
    </message>
    <message>
        <source>Restarting the engine…</source>
        <translation>正在重启推理引擎…</translation>
    </message>
    <message>
        <source>Model: {name}</source>
        <translation>模型：{name}</translation>
    </message>
    <message>
        <source>{path}
context {n_ctx} tokens (trained {n_ctx_train}), {threads} threads, backend {backend}</source>
        <translation>{path}
上下文 {n_ctx} 个词元（训练时 {n_ctx_train}），{threads} 个线程，后端 {backend}</translation>
    </message>
    <message>
        <source>Loaded in safe mode: the first try stopped the engine ({reason}). Replies may be slower; Help → About says more.</source>
        <translation>已在安全模式下加载：第一次尝试使引擎停止（{reason}）。回复可能会变慢；详见“帮助 → 关于”。</translation>
    </message>
    <message>
        <source>The engine was restarted after the error above. Ready.</source>
        <translation>推理引擎已在上述错误后重启。就绪。</translation>
    </message>
    <message>
        <source>Ready. Loaded in {seconds:.1f} s.</source>
        <translation>就绪。加载用时 {seconds:.1f} 秒。</translation>
    </message>
    <message>
        <source>The model is loaded, but not the draft model, so replies are not drafted by it. Choose another draft model in Model → Speed, or None. {reason}</source>
        <translation>模型已加载，但草稿模型没有加载，因此回复不会由它起草。请在“模型 → 速度”中选择其他草稿模型，或选择“无”。{reason}</translation>
    </message>
    <message>
        <source>Reading the prompt… {percent}%</source>
        <translation>正在读取提示词… {percent}%</translation>
    </message>
    <message>
        <source>{speed:.1f} tokens/s</source>
        <translation>{speed:.1f} 词元/秒</translation>
    </message>
    <message>
        <source>{count} tokens · {speed:.1f} tokens/s · first token after {ttft:.2f} s</source>
        <translation>{count} 个词元 · {speed:.1f} 词元/秒 · 首个词元用时 {ttft:.2f} 秒</translation>
    </message>
    <message>
        <source>{count} tokens · {speed:.1f} tokens/s</source>
        <translation>{count} 个词元 · {speed:.1f} 词元/秒</translation>
    </message>
    <message>
        <source>Stopped at the token limit.</source>
        <translation>已达词元上限，停止。</translation>
    </message>
    <message>
        <source>The context window is full.</source>
        <translation>上下文窗口已满。</translation>
    </message>
    <message>
        <source>Stopped: the reply was repeating itself (Loop stop).</source>
        <translation>已停止：回复在不断重复自己（循环终止）。</translation>
    </message>
    <message>
        <source>context-aware decoding, α = {alpha}</source>
        <translation>上下文感知解码，α = {alpha}</translation>
    </message>
    <message>
        <source>(drafting off for this reply)</source>
        <translation>（本次回复未使用草稿）</translation>
    </message>
    <message>
        <source>drafted: {percent}% of {proposed} proposed tokens accepted</source>
        <translation>草稿：提议的 {proposed} 个词元中接受了 {percent}%</translation>
    </message>
    <message>
        <source>(×{ratio:.1f} vs. the last reply without drafting)</source>
        <translation>（相比上一条未使用草稿的回复 ×{ratio:.1f}）</translation>
    </message>
</context>
<context>
    <name>MessageCard</name>
    <message>
        <source>{accepted} of {proposed} proposed tokens accepted</source>
        <translation>提议的 {proposed} 个词元中接受了 {accepted} 个</translation>
    </message>
    <message>
        <source>Reply details</source>
        <translation>回复详情</translation>
    </message>
    <message>
        <source>Model file</source>
        <translation>模型文件</translation>
    </message>
    <message>
        <source>Model SHA-256</source>
        <translation>模型 SHA-256</translation>
    </message>
    <message>
        <source>(not computed yet)</source>
        <translation>（尚未计算）</translation>
    </message>
    <message>
        <source>Template SHA-256</source>
        <translation>模板 SHA-256</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>种子</translation>
    </message>
    <message>
        <source>Sampling</source>
        <translation>采样</translation>
    </message>
    <message>
        <source>defaults</source>
        <translation>默认值</translation>
    </message>
    <message>
        <source>Finish</source>
        <translation>结束原因</translation>
    </message>
    <message>
        <source>Prompt tokens</source>
        <translation>提示词词元</translation>
    </message>
    <message>
        <source>Reply tokens</source>
        <translation>回复词元</translation>
    </message>
    <message>
        <source>Speed</source>
        <translation>速度</translation>
    </message>
    <message>
        <source>{speed:.1f} tokens/s</source>
        <translation>{speed:.1f} 词元/秒</translation>
    </message>
    <message>
        <source>Drafting</source>
        <translation>草稿</translation>
    </message>
    <message>
        <source>Context-aware decoding</source>
        <translation>上下文感知解码</translation>
    </message>
    <message>
        <source>drafting off</source>
        <translation>未使用草稿</translation>
    </message>
    <message>
        <source>Two-stage</source>
        <translation>两阶段</translation>
    </message>
    <message>
        <source>second seed {seed}</source>
        <translation>第二阶段种子 {seed}</translation>
    </message>
    <message>
        <source>Edited</source>
        <translation>已编辑</translation>
    </message>
    <message>
        <source>by hand; the card describes the reply before the edit</source>
        <translation>手动编辑；此卡片描述的是编辑前的回复</translation>
    </message>
    <message>
        <source>Reply card</source>
        <translation>回复卡片</translation>
    </message>
    <message>
        <source>Replay</source>
        <translation>重放</translation>
    </message>
    <message>
        <source>Replay this reply</source>
        <translation>重放此回复</translation>
    </message>
    <message>
        <source>Generate again with the same request and seed</source>
        <translation>用相同的请求和种子重新生成</translation>
    </message>
    <message>
        <source>Reply details buttons</source>
        <translation>回复详情按钮</translation>
    </message>
</context>
</TS>
