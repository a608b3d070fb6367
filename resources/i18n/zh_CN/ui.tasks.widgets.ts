<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>BatchTable</name>
    <message>
        <source>waiting</source>
        <translation>等待中</translation>
    </message>
    <message>
        <source>working…</source>
        <translation>处理中…</translation>
    </message>
    <message>
        <source>done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>not run</source>
        <translation>未运行</translation>
    </message>
    <message>
        <source>{name} batch</source>
        <translation>{name}批量</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>{name} batch results</source>
        <translation>{name}批量结果</translation>
    </message>
    <message>
        <source>Select a row to read its whole result below.</source>
        <translation>选择一行可在下方阅读完整结果。</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>导出 CSV…</translation>
    </message>
    <message>
        <source>Export {name} batch as CSV</source>
        <translation>将{name}批量结果导出为 CSV</translation>
    </message>
    <message>
        <source>Export JSON…</source>
        <translation>导出 JSON…</translation>
    </message>
    <message>
        <source>Export {name} batch as JSON</source>
        <translation>将{name}批量结果导出为 JSON</translation>
    </message>
    <message>
        <source>Exported {n} row(s) to {file}.</source>
        <translation>已将 {n} 行导出到 {file}。</translation>
    </message>
    <message>
        <source>Export as CSV</source>
        <translation>导出为 CSV</translation>
    </message>
    <message>
        <source>CSV (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <source>Export as JSON</source>
        <translation>导出为 JSON</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON 文件 (*.json)</translation>
    </message>
</context>
<context>
    <name>CalibrationPlot</name>
    <message>
        <source>Calibration plot</source>
        <translation>校准图</translation>
    </message>
    <message>
        <source>confidence {confidence:.0%}: accuracy {accuracy:.0%} of {n}</source>
        <translation>置信度 {confidence:.0%}：{n} 个中准确率 {accuracy:.0%}</translation>
    </message>
    <message>
        <source>Expected calibration error {ece:.3f}; {bins}</source>
        <translation>期望校准误差 {ece:.3f}；{bins}</translation>
    </message>
    <message>
        <source>confidence</source>
        <translation>置信度</translation>
    </message>
    <message>
        <source>accuracy · ECE {ece:.3f}</source>
        <translation>准确率 · ECE {ece:.3f}</translation>
    </message>
</context>
<context>
    <name>ConfusionMatrix</name>
    <message>
        <source>Confusion matrix</source>
        <translation>混淆矩阵</translation>
    </message>
    <message>
        <source>gold {gold}, predicted {predicted}: {n}</source>
        <translation>标准 {gold}，预测 {predicted}：{n}</translation>
    </message>
    <message>
        <source>predicted</source>
        <translation>预测</translation>
    </message>
</context>
<context>
    <name>KnowledgePicker</name>
    <message>
        <source>From the knowledge base</source>
        <translation>从知识库选择</translation>
    </message>
    <message>
        <source>Knowledge base documents</source>
        <translation>知识库文档</translation>
    </message>
    <message>
        <source>Collection</source>
        <translation>文档集</translation>
    </message>
    <message>
        <source>Knowledge collection</source>
        <translation>知识库文档集</translation>
    </message>
    <message>
        <source>Knowledge documents</source>
        <translation>知识库文档</translation>
    </message>
    <message>
        <source>Select one document, or several to run them as a batch.</source>
        <translation>选择一个文档，或选择多个作为批量运行。</translation>
    </message>
    <message>
        <source>Listing the collections…</source>
        <translation>正在列出文档集…</translation>
    </message>
    <message>
        <source>Knowledge picker note</source>
        <translation>知识库选择器提示</translation>
    </message>
    <message>
        <source>Knowledge picker buttons</source>
        <translation>知识库选择器按钮</translation>
    </message>
    <message>
        <source>Use</source>
        <translation>使用</translation>
    </message>
    <message>
        <source>Use the selected documents</source>
        <translation>使用所选文档</translation>
    </message>
    <message>
        <source>Cancel choosing documents</source>
        <translation>取消选择文档</translation>
    </message>
    <message>
        <source>The knowledge base is empty: add documents in the Knowledge panel.</source>
        <translation>知识库为空：请在“知识库”面板中添加文档。</translation>
    </message>
    <message>
        <source>Listing the documents of “{name}”…</source>
        <translation>正在列出“{name}”中的文档…</translation>
    </message>
    <message>
        <source>{n} document(s) in “{collection}”.</source>
        <translation>“{collection}”中有 {n} 个文档。</translation>
    </message>
    <message>
        <source>No indexed document here.</source>
        <translation>此处没有已索引的文档。</translation>
    </message>
    <message>
        <source>{n} not indexed (still pending or failed) are not listed.</source>
        <translation>另有 {n} 个未索引（仍在等待或失败）的文档未列出。</translation>
    </message>
    <message>
        <source>Use {n} as a batch</source>
        <translation>将 {n} 个作为批量使用</translation>
    </message>
</context>
<context>
    <name>ProbabilityBars</name>
    <message>
        <source>Label probabilities</source>
        <translation>标签概率</translation>
    </message>
    <message>
        <source>No result</source>
        <translation>无结果</translation>
    </message>
    <message>
        <source>No result yet</source>
        <translation>尚无结果</translation>
    </message>
</context>
<context>
    <name>TaskWidgets</name>
    <message>
        <source>{n} word(s) removed, struck through</source>
        <translation>删除了 {n} 个词，已加删除线</translation>
    </message>
    <message>
        <source>{n} word(s) added, highlighted</source>
        <translation>新增了 {n} 个词，已高亮</translation>
    </message>
    <message>
        <source>Could not write {path}: {reason}</source>
        <translation>无法写入 {path}：{reason}</translation>
    </message>
</context>
<context>
    <name>TemplateEditor</name>
    <message>
        <source>Prompt template</source>
        <translation>提示词模板</translation>
    </message>
    <message>
        <source>Prompt template editor</source>
        <translation>提示词模板编辑器</translation>
    </message>
    <message>
        <source>Template name</source>
        <translation>模板名称</translation>
    </message>
    <message>
        <source>Template text</source>
        <translation>模板文本</translation>
    </message>
    <message>
        <source>Placeholders in braces ({text}, {labels}, …) are filled in; other braces stay.</source>
        <translation>花括号中的占位符（{text}、{labels}、…）会被填入；其他花括号保持不变。</translation>
    </message>
    <message>
        <source>Template state</source>
        <translation>模板状态</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>Save template</source>
        <translation>保存模板</translation>
    </message>
    <message>
        <source>Reset to default</source>
        <translation>重置为默认</translation>
    </message>
    <message>
        <source>Reset template to default</source>
        <translation>将模板重置为默认</translation>
    </message>
    <message>
        <source>System prompt</source>
        <translation>系统提示词</translation>
    </message>
    <message>
        <source>User prompt</source>
        <translation>用户提示词</translation>
    </message>
    <message>
        <source>Each part of a long text</source>
        <translation>长文本的每一段</translation>
    </message>
    <message>
        <source>Combining the parts</source>
        <translation>合并各段</translation>
    </message>
    <message>
        <source>edited, not saved (used by the next run)</source>
        <translation>已编辑，未保存（下次运行时使用）</translation>
    </message>
    <message>
        <source>default</source>
        <translation>默认</translation>
    </message>
    <message>
        <source>your saved version</source>
        <translation>你保存的版本</translation>
    </message>
    <message>
        <source>Could not save: {error}</source>
        <translation>无法保存：{error}</translation>
    </message>
    <message>
        <source>Could not reset: {error}</source>
        <translation>无法重置：{error}</translation>
    </message>
</context>
<context>
    <name>TokenDialog</name>
    <message>
        <source>Tokens — {title}</source>
        <translation>词元 — {title}</translation>
    </message>
    <message>
        <source>Result tokens</source>
        <translation>结果词元</translation>
    </message>
    <message>
        <source>Result tokens view</source>
        <translation>结果词元视图</translation>
    </message>
    <message>
        <source>Hover a token to see the candidates it was drawn from.</source>
        <translation>将鼠标悬停在词元上，可查看它是从哪些候选词元中采样得到的。</translation>
    </message>
    <message>
        <source>Selected token</source>
        <translation>所选词元</translation>
    </message>
    <message>
        <source>Result tokens buttons</source>
        <translation>结果词元按钮</translation>
    </message>
</context>
</TS>
