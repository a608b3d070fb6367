<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ExtractTab</name>
    <message>
        <source>Extract</source>
        <translation>提取</translation>
    </message>
    <message>
        <source>Extract fields or schema</source>
        <translation>提取字段或模式</translation>
    </message>
    <message>
        <source>Fields</source>
        <translation>字段</translation>
    </message>
    <message>
        <source>JSON Schema</source>
        <translation>JSON Schema</translation>
    </message>
    <message>
        <source>Paste a JSON Schema: {&quot;type&quot;: &quot;object&quot;, &quot;properties&quot;: {…}, &quot;required&quot;: […]}</source>
        <translation>粘贴 JSON Schema：{&quot;type&quot;: &quot;object&quot;, &quot;properties&quot;: {…}, &quot;required&quot;: […]}</translation>
    </message>
    <message>
        <source>A document to extract from; open several files or documents for a batch.</source>
        <translation>要从中提取的文档；打开多个文件或文档可批量处理。</translation>
    </message>
    <message>
        <source>Field editor</source>
        <translation>字段编辑器</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Required</source>
        <translation>必填</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>描述</translation>
    </message>
    <message>
        <source>Options (enum)</source>
        <translation>选项（枚举）</translation>
    </message>
    <message>
        <source>Field list</source>
        <translation>字段列表</translation>
    </message>
    <message>
        <source>Add field</source>
        <translation>添加字段</translation>
    </message>
    <message>
        <source>Remove field</source>
        <translation>移除字段</translation>
    </message>
    <message>
        <source>Show as JSON Schema</source>
        <translation>显示为 JSON Schema</translation>
    </message>
    <message>
        <source>Show fields as JSON Schema</source>
        <translation>将字段显示为 JSON Schema</translation>
    </message>
    <message>
        <source>Extract results</source>
        <translation>提取结果</translation>
    </message>
    <message>
        <source>Schema check</source>
        <translation>模式校验</translation>
    </message>
    <message>
        <source>Extracted fields</source>
        <translation>提取的字段</translation>
    </message>
    <message>
        <source>Show tokens</source>
        <translation>显示词元</translation>
    </message>
    <message>
        <source>Show extraction tokens</source>
        <translation>显示提取结果的词元</translation>
    </message>
    <message>
        <source>Copy JSON</source>
        <translation>复制 JSON</translation>
    </message>
    <message>
        <source>Copy extracted JSON</source>
        <translation>复制提取的 JSON</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>导出 CSV…</translation>
    </message>
    <message>
        <source>Export extraction as CSV</source>
        <translation>将提取结果导出为 CSV</translation>
    </message>
    <message>
        <source>Export JSON…</source>
        <translation>导出 JSON…</translation>
    </message>
    <message>
        <source>Export extraction as JSON</source>
        <translation>将提取结果导出为 JSON</translation>
    </message>
    <message>
        <source>Type of field {n}</source>
        <translation>字段 {n} 的类型</translation>
    </message>
    <message>
        <source>Field {n} required</source>
        <translation>字段 {n} 必填</translation>
    </message>
    <message>
        <source>text</source>
        <translation>文本</translation>
    </message>
    <message>
        <source>number</source>
        <translation>数字</translation>
    </message>
    <message>
        <source>integer</source>
        <translation>整数</translation>
    </message>
    <message>
        <source>date</source>
        <translation>日期</translation>
    </message>
    <message>
        <source>list</source>
        <translation>列表</translation>
    </message>
    <message>
        <source>enum</source>
        <translation>枚举</translation>
    </message>
    <message>
        <source>boolean</source>
        <translation>布尔值</translation>
    </message>
    <message>
        <source>The JSON Schema is not JSON ({error}).</source>
        <translation>该 JSON Schema 不是有效的 JSON（{error}）。</translation>
    </message>
    <message>
        <source>The JSON Schema must be an object.</source>
        <translation>JSON Schema 必须是一个对象。</translation>
    </message>
    <message>
        <source>Exported {n} row(s) to {file}.</source>
        <translation>已将 {n} 行导出到 {file}。</translation>
    </message>
    <message>
        <source>Exported {n} document(s) to {file}.</source>
        <translation>已将 {n} 个文档导出到 {file}。</translation>
    </message>
    <message>
        <source>There is no text to extract from.</source>
        <translation>没有可供提取的文本。</translation>
    </message>
    <message>
        <source>Extracting</source>
        <translation>正在提取</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Extracting from {n} documents</source>
        <translation>正在从 {n} 个文档中提取</translation>
    </message>
    <message>
        <source>Extracted {n} of {total}…</source>
        <translation>已提取 {n}/{total}…</translation>
    </message>
    <message>
        <source>Writing: {text}</source>
        <translation>正在写入：{text}</translation>
    </message>
    <message>
        <source>Extracted {n} field(s) in {tokens} tokens.</source>
        <translation>已用 {tokens} 个词元提取 {n} 个字段。</translation>
    </message>
    <message>
        <source>Cancelled after {n} of {total} document(s), {failed} failed.</source>
        <translation>已在完成 {n}/{total} 个文档后取消，{failed} 个失败。</translation>
    </message>
    <message>
        <source>Cancelled after {n} of {total} document(s).</source>
        <translation>已在完成 {n}/{total} 个文档后取消。</translation>
    </message>
    <message>
        <source>Extracted {n} document(s), {failed} failed.</source>
        <translation>已提取 {n} 个文档，{failed} 个失败。</translation>
    </message>
    <message>
        <source>Extracted {n} document(s).</source>
        <translation>已提取 {n} 个文档。</translation>
    </message>
    <message>
        <source>Field</source>
        <translation>字段</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>值</translation>
    </message>
    <message>
        <source>Confidence</source>
        <translation>置信度</translation>
    </message>
    <message>
        <source>geometric mean {mean:.3f} over {n} token(s); joint {joint:.3g}; least sure token {lowest:.3f}</source>
        <translation>{n} 个词元的几何平均 {mean:.3f}；联合概率 {joint:.3g}；最不确定的词元 {lowest:.3f}</translation>
    </message>
    <message>
        <source>✓ Valid JSON for the schema.</source>
        <translation>✓ 符合模式的有效 JSON。</translation>
    </message>
    <message>
        <source>✗ Not valid for the schema: {errors}</source>
        <translation>✗ 不符合模式：{errors}</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>confidence {percent}</source>
        <translation>置信度 {percent}</translation>
    </message>
    <message>
        <source>Extraction</source>
        <translation>提取结果</translation>
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
</TS>
