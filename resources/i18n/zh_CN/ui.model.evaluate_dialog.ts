<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>EvaluateDialog</name>
    <message>
        <source>Evaluate a model</source>
        <translation>评估模型</translation>
    </message>
    <message>
        <source>Evaluate</source>
        <translation>评估</translation>
    </message>
    <message>
        <source>Start the evaluation</source>
        <translation>开始评估</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Cancel the evaluation</source>
        <translation>取消评估</translation>
    </message>
    <message>
        <source>Evaluation progress</source>
        <translation>评估进度</translation>
    </message>
    <message>
        <source>Evaluation status</source>
        <translation>评估状态</translation>
    </message>
    <message>
        <source>What to evaluate</source>
        <translation>评估内容</translation>
    </message>
    <message>
        <source>Question set</source>
        <translation>题目集</translation>
    </message>
    <message>
        <source>Sample: multiple choice, English</source>
        <translation>示例：选择题，英文</translation>
    </message>
    <message>
        <source>Sample: multiple choice, Chinese</source>
        <translation>示例：选择题，中文</translation>
    </message>
    <message>
        <source>Sample: word problems, English</source>
        <translation>示例：应用题，英文</translation>
    </message>
    <message>
        <source>Sample: word problems, Chinese</source>
        <translation>示例：应用题，中文</translation>
    </message>
    <message>
        <source>A file (JSONL or CSV)…</source>
        <translation>文件（JSONL 或 CSV）…</translation>
    </message>
    <message>
        <source>Questions</source>
        <translation>题目</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Compare with</source>
        <translation>对比模型</translation>
    </message>
    <message>
        <source>Nothing</source>
        <translation>无</translation>
    </message>
    <message>
        <source>{name} (loaded)</source>
        <translation>{name}（已加载）</translation>
    </message>
    <message>
        <source>A model file…</source>
        <translation>模型文件…</translation>
    </message>
    <message>
        <source>LoRA adapter</source>
        <translation>LoRA 适配器</translation>
    </message>
    <message>
        <source>Optional: a LoRA adapter GGUF; alone, the model runs without and with it</source>
        <translation>可选：LoRA 适配器 GGUF 文件；单独使用时，模型分别在不加和加上适配器时运行</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Choose a LoRA adapter</source>
        <translation>选择 LoRA 适配器</translation>
    </message>
    <message>
        <source>Adapter</source>
        <translation>适配器</translation>
    </message>
    <message>
        <source>Multiple-choice scoring</source>
        <translation>选择题评分方式</translation>
    </message>
    <message>
        <source>probability of each letter</source>
        <translation>每个选项字母的概率</translation>
    </message>
    <message>
        <source>probability of each choice&apos;s text</source>
        <translation>每个选项内容的概率</translation>
    </message>
    <message>
        <source>Items to evaluate</source>
        <translation>评估的题数</translation>
    </message>
    <message>
        <source>all</source>
        <translation>全部</translation>
    </message>
    <message>
        <source>First items:</source>
        <translation>前几题：</translation>
    </message>
    <message>
        <source>Scoring</source>
        <translation>评分</translation>
    </message>
    <message>
        <source>Report</source>
        <translation>报告</translation>
    </message>
    <message>
        <source>No evaluation yet.</source>
        <translation>尚未评估。</translation>
    </message>
    <message>
        <source>Evaluation summary</source>
        <translation>评估摘要</translation>
    </message>
    <message>
        <source>Accuracy per subject</source>
        <translation>各科目准确率</translation>
    </message>
    <message>
        <source>Most confidently wrong (double-click for the token view)</source>
        <translation>最自信的错误答案（双击打开词元视图）</translation>
    </message>
    <message>
        <source>Line</source>
        <translation>行</translation>
    </message>
    <message>
        <source>Question</source>
        <translation>题目</translation>
    </message>
    <message>
        <source>Right</source>
        <translation>正确答案</translation>
    </message>
    <message>
        <source>Answered</source>
        <translation>模型答案</translation>
    </message>
    <message>
        <source>Confidence</source>
        <translation>置信度</translation>
    </message>
    <message>
        <source>Most confidently wrong items</source>
        <translation>最自信的错误题目</translation>
    </message>
    <message>
        <source>Where the results were saved</source>
        <translation>结果保存位置</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Export the evaluation</source>
        <translation>导出评估结果</translation>
    </message>
    <message>
        <source>Open saved…</source>
        <translation>打开已保存的…</translation>
    </message>
    <message>
        <source>Open a saved evaluation</source>
        <translation>打开已保存的评估</translation>
    </message>
    <message>
        <source>Open a question file</source>
        <translation>打开题目文件</translation>
    </message>
    <message>
        <source>Questions (*.jsonl *.csv);;All files (*)</source>
        <translation>题目 (*.jsonl *.csv);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Open a model</source>
        <translation>打开模型</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf)</source>
        <translation>GGUF 模型 (*.gguf)</translation>
    </message>
    <message>
        <source>Open a LoRA adapter</source>
        <translation>打开 LoRA 适配器</translation>
    </message>
    <message>
        <source>GGUF adapters (*.gguf)</source>
        <translation>GGUF 适配器 (*.gguf)</translation>
    </message>
    <message>
        <source>Choose a model to evaluate.</source>
        <translation>请选择要评估的模型。</translation>
    </message>
    <message>
        <source>The adapter {path} is not a file.</source>
        <translation>适配器 {path} 不是文件。</translation>
    </message>
    <message>
        <source>Choose a question file.</source>
        <translation>请选择题目文件。</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在启动…</translation>
    </message>
    <message>
        <source>Cancelling after the current item…</source>
        <translation>将在当前题目完成后取消…</translation>
    </message>
    <message>
        <source>Loading {name}…</source>
        <translation>正在加载 {name}…</translation>
    </message>
    <message>
        <source>Model {m}: item {i} of {n}</source>
        <translation>模型 {m}：第 {i} 题，共 {n} 题</translation>
    </message>
    <message>
        <source>Cancelled before any item was answered.</source>
        <translation>在回答任何题目之前已取消。</translation>
    </message>
    <message>
        <source>Not saved: {reason}</source>
        <translation>未保存：{reason}</translation>
    </message>
    <message>
        <source>Saved to {path}</source>
        <translation>已保存到 {path}</translation>
    </message>
    <message>
        <source>Cancelled: the report covers the items answered.</source>
        <translation>已取消：报告只包含已回答的题目。</translation>
    </message>
    <message>
        <source>Done.</source>
        <translation>完成。</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>已取消。</translation>
    </message>
    <message>
        <source>{model}: accuracy {acc:.1%} (95% CI {low:.1%}–{high:.1%}), ECE {ece:.3f}, {n} of {total} items, {speed:.2f} items/s</source>
        <translation>{model}：准确率 {acc:.1%}（95% 置信区间 {low:.1%}–{high:.1%}），ECE {ece:.3f}，{n}/{total} 题，每秒 {speed:.2f} 题</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>科目</translation>
    </message>
    <message>
        <source>{model}, line {line}</source>
        <translation>{model}，第 {line} 行</translation>
    </message>
    <message>
        <source>{question}
{choices}
Right answer: {gold}. The token is the answer letter; its alternatives are the choice letters, with their probabilities among them.</source>
        <translation>{question}
{choices}
正确答案：{gold}。这个词元是答案字母；它的候选是各选项字母，以及它们在选项之间的概率。</translation>
    </message>
    <message>
        <source>{question}
Right answer: {gold}.</source>
        <translation>{question}
正确答案：{gold}。</translation>
    </message>
    <message>
        <source>Evaluations (*.json)</source>
        <translation>评估结果 (*.json)</translation>
    </message>
    <message>
        <source>Opened {path}</source>
        <translation>已打开 {path}</translation>
    </message>
    <message>
        <source>Markdown (*.md);;JSON (*.json);;CSV (*.csv)</source>
        <translation>Markdown (*.md);;JSON (*.json);;CSV (*.csv)</translation>
    </message>
    <message>
        <source>Could not export: {reason}</source>
        <translation>无法导出：{reason}</translation>
    </message>
    <message>
        <source>Exported to {path}</source>
        <translation>已导出到 {path}</translation>
    </message>
</context>
</TS>
