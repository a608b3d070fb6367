<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ChatOptionsPanel</name>
    <message>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Step by step (“{phrase}”)</source>
        <translation>逐步推理（“{phrase}”）</translation>
    </message>
    <message>
        <source>Two-stage (then “{phrase}”)</source>
        <translation>两阶段（随后“{phrase}”）</translation>
    </message>
    <message>
        <source>Conversation</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>Conversation options</source>
        <translation>对话选项</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>预设</translation>
    </message>
    <message>
        <source>A saved system prompt with sampling values</source>
        <translation>已保存的系统提示词及采样值</translation>
    </message>
    <message>
        <source>Save…</source>
        <translation>保存…</translation>
    </message>
    <message>
        <source>Save preset</source>
        <translation>保存预设</translation>
    </message>
    <message>
        <source>Save the system prompt and sampling values as a preset</source>
        <translation>将系统提示词和采样值保存为预设</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Delete preset</source>
        <translation>删除预设</translation>
    </message>
    <message>
        <source>System prompt</source>
        <translation>系统提示词</translation>
    </message>
    <message>
        <source>e.g. You are a concise assistant. Answer in English.</source>
        <translation>例如：你是一个简洁的助手。请用中文回答。</translation>
    </message>
    <message>
        <source>Reasoning</source>
        <translation>推理</translation>
    </message>
    <message>
        <source>Step by step adds “Let&apos;s think step by step.” to your question; two-stage then asks “Therefore, the answer is” in the same reply.</source>
        <translation>“逐步推理”会在你的问题后加上“Let&apos;s think step by step.”；“两阶段”随后在同一条回复中追问“Therefore, the answer is”。</translation>
    </message>
    <message>
        <source>Few-shot examples</source>
        <translation>少样本示例</translation>
    </message>
    <message>
        <source>User: Is “great value” positive or negative?
Assistant: positive</source>
        <translation>User: “物超所值”是正面还是负面？
Assistant: 正面</translation>
    </message>
    <message>
        <source>Examples</source>
        <translation>示例</translation>
    </message>
    <message>
        <source>Examples status</source>
        <translation>示例状态</translation>
    </message>
    <message>
        <source>Knowledge collections</source>
        <translation>知识库文档集</translation>
    </message>
    <message>
        <source>Tick collections to answer from them: each question is searched in them first and the reply cites the passages it used.</source>
        <translation>勾选文档集以依据其作答：每个问题会先在其中搜索，回复会引用所用的段落。</translation>
    </message>
    <message>
        <source>Knowledge</source>
        <translation>知识库</translation>
    </message>
    <message>
        <source>top </source>
        <translation>前 </translation>
    </message>
    <message>
        <source>Passages per question</source>
        <translation>每个问题的段落数</translation>
    </message>
    <message>
        <source>any similarity</source>
        <translation>任意相似度</translation>
    </message>
    <message>
        <source>Similarity threshold</source>
        <translation>相似度阈值</translation>
    </message>
    <message>
        <source>Leave out passages less similar than this (0: keep all)</source>
        <translation>排除相似度低于此值的段落（0：全部保留）</translation>
    </message>
    <message>
        <source>Answer only from the documents</source>
        <translation>仅依据文档作答</translation>
    </message>
    <message>
        <source>The model says it found nothing rather than answering from general knowledge.</source>
        <translation>找不到时模型会如实说明，而不是凭常识作答。</translation>
    </message>
    <message>
        <source>no rewriting</source>
        <translation>不改写</translation>
    </message>
    <message>
        <source> rewrites</source>
        <translation> 种改写</translation>
    </message>
    <message>
        <source>Query rewrites</source>
        <translation>查询改写</translation>
    </message>
    <message>
        <source>The model rewrites the question this many ways; every phrasing is searched.</source>
        <translation>模型将问题改写为这么多种说法；每种说法都会被搜索。</translation>
    </message>
    <message>
        <source>Rerank with the model</source>
        <translation>用模型重排序</translation>
    </message>
    <message>
        <source>The loaded model judges each of 20 passages from its probabilities and the best are kept (slower; small models judge poorly).</source>
        <translation>已加载的模型根据概率评判 20 个段落中的每一个，并保留最佳者（较慢；小模型判断较差）。</translation>
    </message>
    <message>
        <source>Also search in the documents&apos; language</source>
        <translation>同时用文档的语言搜索</translation>
    </message>
    <message>
        <source>When a question is in another language than the attached documents, the loaded model also writes it in theirs, and both are searched (a few seconds more).</source>
        <translation>当问题的语言与所附文档不同时，已加载的模型会把问题也写成文档的语言，两种写法都会被搜索（多花几秒）。</translation>
    </message>
    <message>
        <source>Rank by the terms an answer would name</source>
        <translation>按答案会提到的术语排序</translation>
    </message>
    <message>
        <source>Before the search, the loaded model lists the commands, files, options and terms a passage answering the question would name; of the 20 best passages, those naming one of them rank higher (a second or two more). It helps with manuals, whose passages name commands worded unlike the question.</source>
        <translation>搜索之前，已加载的模型先列出回答该问题的段落会提到的命令、文件、选项和术语；在最好的 20 个段落中，提到其中之一的段落排得更靠前（多花一两秒）。对手册类文档有帮助：其段落里的命令往往与问题的说法不同。</translation>
    </message>
    <message>
        <source>Use whole documents</source>
        <translation>使用完整文档</translation>
    </message>
    <message>
        <source>When the attached documents fit in the model&apos;s context with room for the answer, the model reads them whole instead of the passages a search finds; when they do not fit, the window says so and sends nothing.</source>
        <translation>当所附文档放得进模型的上下文并为回答留有余地时，模型读取完整文档，而不是搜索找到的段落；放不下时，窗口会说明原因，不发送任何内容。</translation>
    </message>
    <message>
        <source>Favour the documents (CAD)</source>
        <translation>偏向文档（CAD）</translation>
    </message>
    <message>
        <source>Context-aware decoding</source>
        <translation>上下文感知解码</translation>
    </message>
    <message>
        <source>Context-aware decoding: each token is drawn from (1+α)·logits with the passages − α·logits without them, so what the documents say wins over what the model believes. The prompt without the passages runs beside the reply in the same context; drafting is off for such a reply. With α = 0 the reply is the plain one, and the token view still shows each token&apos;s probability with and without the documents.</source>
        <translation>上下文感知解码：每个词元从 (1+α)·有段落时的 logits − α·无段落时的 logits 中抽取，让文档所说的压过模型自己的看法。不含段落的提示在同一上下文中与回复并行运行；这样的回复不使用草稿。α = 0 时回复与普通回复相同，词元视图仍显示每个词元有文档和无文档时的概率。</translation>
    </message>
    <message>
        <source>CAD weight α</source>
        <translation>CAD 权重 α</translation>
    </message>
    <message>
        <source>Only file types</source>
        <translation>仅限文件类型</translation>
    </message>
    <message>
        <source>any type (e.g. pdf, md)</source>
        <translation>任意类型（例如 pdf, md）</translation>
    </message>
    <message>
        <source>Only files under folder</source>
        <translation>仅限此文件夹下的文件</translation>
    </message>
    <message>
        <source>any folder</source>
        <translation>任意文件夹</translation>
    </message>
    <message>
        <source>Modified since</source>
        <translation>修改时间晚于</translation>
    </message>
    <message>
        <source>Only files modified since</source>
        <translation>仅限此日期后修改的文件</translation>
    </message>
    <message>
        <source>Modified since date</source>
        <translation>修改起始日期</translation>
    </message>
    <message>
        <source>Only types</source>
        <translation>仅限类型</translation>
    </message>
    <message>
        <source>Only folder</source>
        <translation>仅限文件夹</translation>
    </message>
    <message>
        <source>Tools</source>
        <translation>工具</translation>
    </message>
    <message>
        <source>{label} label</source>
        <translation>{label} 标签</translation>
    </message>
    <message>
        <source>Conversation panel contents</source>
        <translation>对话面板内容</translation>
    </message>
    <message>
        <source>(none)</source>
        <translation>（无）</translation>
    </message>
    <message>
        <source>Write each example as “User: …” then “Assistant: …”.</source>
        <translation>每个示例请写成“User: …”，然后“Assistant: …”。</translation>
    </message>
    <message>
        <source>{count} example(s) sent before each conversation.</source>
        <translation>每次对话前会发送 {count} 个示例。</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>名称：</translation>
    </message>
</context>
</TS>
