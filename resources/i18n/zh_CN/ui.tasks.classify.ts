<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ClassifyTab</name>
    <message>
        <source>line {n}</source>
        <translation>第 {n} 行</translation>
    </message>
    <message>
        <source>Example line {n} has no label: write the text, a tab, then the label.</source>
        <translation>示例第 {n} 行没有标签：请先写文本，再加一个制表符，然后写标签。</translation>
    </message>
    <message>
        <source>Classify</source>
        <translation>分类</translation>
    </message>
    <message>
        <source>A text to classify. Tick “one text per line” for a batch; a line “text&lt;TAB&gt;label” or a JSON line {&quot;text&quot;, &quot;label&quot;} gives its gold label.</source>
        <translation>要分类的文本。勾选“每行一个文本”可批量分类；“文本&lt;TAB&gt;标签”形式的行或 JSON 行 {&quot;text&quot;, &quot;label&quot;} 会给出其标准标签。</translation>
    </message>
    <message>
        <source>One text per line</source>
        <translation>每行一个文本</translation>
    </message>
    <message>
        <source>Classify one text per line</source>
        <translation>每行分类一个文本</translation>
    </message>
    <message>
        <source>Label score</source>
        <translation>标签得分</translation>
    </message>
    <message>
        <source>whole label (sum)</source>
        <translation>整个标签（求和）</translation>
    </message>
    <message>
        <source>per token (mean)</source>
        <translation>按词元（平均）</translation>
    </message>
    <message>
        <source>Sum: the probability of writing the whole label. Mean: per token, so long labels are not penalised for their length.</source>
        <translation>求和：写出整个标签的概率。平均：按词元计算，长标签不会因长度而吃亏。</translation>
    </message>
    <message>
        <source>Score</source>
        <translation>得分</translation>
    </message>
    <message>
        <source>Labels</source>
        <translation>标签</translation>
    </message>
    <message>
        <source>Classify labels</source>
        <translation>分类标签</translation>
    </message>
    <message>
        <source>Label list</source>
        <translation>标签列表</translation>
    </message>
    <message>
        <source>Label</source>
        <translation>标签</translation>
    </message>
    <message>
        <source>Description (optional)</source>
        <translation>描述（可选）</translation>
    </message>
    <message>
        <source>Add label</source>
        <translation>添加标签</translation>
    </message>
    <message>
        <source>Remove label</source>
        <translation>移除标签</translation>
    </message>
    <message>
        <source>Few-shot examples</source>
        <translation>少样本示例</translation>
    </message>
    <message>
        <source>Optional few-shot examples, one per line: text&lt;TAB&gt;label</source>
        <translation>可选的少样本示例，每行一个：文本&lt;TAB&gt;标签</translation>
    </message>
    <message>
        <source>Classify results</source>
        <translation>分类结果</translation>
    </message>
    <message>
        <source>Classify result</source>
        <translation>分类结果</translation>
    </message>
    <message>
        <source>Classify verdict</source>
        <translation>分类判定</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Text</source>
        <translation>文本</translation>
    </message>
    <message>
        <source>Gold</source>
        <translation>标准标签</translation>
    </message>
    <message>
        <source>Classify batch results</source>
        <translation>批量分类结果</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>导出 CSV…</translation>
    </message>
    <message>
        <source>Export classifications as CSV</source>
        <translation>将分类结果导出为 CSV</translation>
    </message>
    <message>
        <source>Against the gold labels</source>
        <translation>与标准标签对比</translation>
    </message>
    <message>
        <source>Classify scores</source>
        <translation>分类评分</translation>
    </message>
    <message>
        <source>Accuracy</source>
        <translation>准确率</translation>
    </message>
    <message>
        <source>Exported {n} row(s) to {file}.</source>
        <translation>已将 {n} 行导出到 {file}。</translation>
    </message>
    <message>
        <source>There is no text to classify.</source>
        <translation>没有要分类的文本。</translation>
    </message>
    <message>
        <source>Classifying</source>
        <translation>正在分类</translation>
    </message>
    <message>
        <source>Classifying {n} texts</source>
        <translation>正在分类 {n} 个文本</translation>
    </message>
    <message>
        <source>Classified {n} of {total}…</source>
        <translation>已分类 {n}/{total}…</translation>
    </message>
    <message>
        <source>Cancelled after {n} of {total} text(s).</source>
        <translation>已在完成 {n}/{total} 个文本后取消。</translation>
    </message>
    <message>
        <source>Classified {n} text(s).</source>
        <translation>已分类 {n} 个文本。</translation>
    </message>
    <message>
        <source>Accuracy {accuracy:.1%} · macro-F1 {f1:.3f} · ECE {ece:.3f} · {n} text(s)</source>
        <translation>准确率 {accuracy:.1%} · 宏 F1 {f1:.3f} · ECE {ece:.3f} · {n} 个文本</translation>
    </message>
    <message>
        <source>gold labels not in the list: {labels}</source>
        <translation>不在列表中的标准标签：{labels}</translation>
    </message>
    <message>
        <source>label {n}</source>
        <translation>标签 {n}</translation>
    </message>
    <message>
        <source>Open texts</source>
        <translation>打开文本</translation>
    </message>
    <message>
        <source>Texts (*.txt *.md *.jsonl *.tsv);;All files (*)</source>
        <translation>文本 (*.txt *.md *.jsonl *.tsv);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Export classifications</source>
        <translation>导出分类结果</translation>
    </message>
    <message>
        <source>CSV (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
</context>
</TS>
