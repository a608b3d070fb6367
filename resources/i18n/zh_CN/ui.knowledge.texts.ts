<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>KnowledgePanel</name>
    <message>
        <source>My documents</source>
        <translation>我的文档</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Chunks</source>
        <translation>文本块</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
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
        <source>Fused</source>
        <translation>融合</translation>
    </message>
    <message>
        <source>Passage</source>
        <translation>段落</translation>
    </message>
    <message>
        <source>Documents ({patterns});;All files (*)</source>
        <translation>文档 ({patterns});;所有文件 (*)</translation>
    </message>
    <message>
        <source>{s} s</source>
        <translation>{s} 秒</translation>
    </message>
    <message>
        <source>{min} min {s} s</source>
        <translation>{min} 分 {s} 秒</translation>
    </message>
    <message>
        <source>{h} h {min} min</source>
        <translation>{h} 小时 {min} 分</translation>
    </message>
    <message>
        <source>files {done}/{total}</source>
        <translation>文件 {done}/{total}</translation>
    </message>
    <message>
        <source>{count} chunks</source>
        <translation>{count} 个文本块</translation>
    </message>
    <message>
        <source>{rate} chunks/s</source>
        <translation>{rate} 块/秒</translation>
    </message>
    <message>
        <source>OCR page {page}/{pages}</source>
        <translation>OCR 第 {page}/{pages} 页</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>{duration} left</source>
        <translation>剩余 {duration}</translation>
    </message>
    <message>
        <source>{count} failed</source>
        <translation>{count} 个失败</translation>
    </message>
    <message>
        <source>{count} unchanged</source>
        <translation>{count} 个未变</translation>
    </message>
    <message>
        <source>{count} indexed</source>
        <translation>{count} 个已索引</translation>
    </message>
    <message>
        <source>{count} resumed</source>
        <translation>{count} 个已继续</translation>
    </message>
    <message>
        <source>{count} removed</source>
        <translation>{count} 个已移除</translation>
    </message>
    <message>
        <source>{chunks} chunks in {seconds} s</source>
        <translation>{chunks} 个文本块，用时 {seconds} 秒</translation>
    </message>
    <message>
        <source>Cancelled: {parts}</source>
        <translation>已取消：{parts}</translation>
    </message>
    <message>
        <source>Done: {parts}</source>
        <translation>完成：{parts}</translation>
    </message>
    <message>
        <source>without extension</source>
        <translation>无扩展名</translation>
    </message>
    <message>
        <source>{count} of other types</source>
        <translation>其他类型 {count} 个</translation>
    </message>
    <message>
        <source>{count} skipped, a type Glassbox does not read ({types})</source>
        <translation>跳过 {count} 个 Glassbox 无法读取类型的文件（{types}）</translation>
    </message>
    <message>
        <source>{count} skipped, over the size limit</source>
        <translation>跳过 {count} 个超过大小上限的文件</translation>
    </message>
    <message>
        <source>{count} hidden skipped</source>
        <translation>跳过 {count} 个隐藏项</translation>
    </message>
    <message>
        <source>Not read: Glassbox does not read files of this type</source>
        <translation>未读取：Glassbox 无法读取此类型的文件</translation>
    </message>
    <message>
        <source>Over the size limit</source>
        <translation>超过大小上限</translation>
    </message>
    <message>
        <source>Hidden: the name starts with a dot; a hidden folder is not looked into</source>
        <translation>隐藏：名称以点开头；不会查看隐藏文件夹的内容</translation>
    </message>
    <message>
        <source>{clock} · Sync cancelled: {parts} ({seconds} s)</source>
        <translation>{clock} · 同步已取消：{parts}（{seconds} 秒）</translation>
    </message>
    <message>
        <source>{clock} · A watched folder changed: {parts} ({seconds} s)</source>
        <translation>{clock} · 监视的文件夹有变化：{parts}（{seconds} 秒）</translation>
    </message>
    <message>
        <source>{clock} · Watched folders synced: {parts} ({seconds} s)</source>
        <translation>{clock} · 监视的文件夹已同步：{parts}（{seconds} 秒）</translation>
    </message>
    <message>
        <source>{count} changed</source>
        <translation>{count} 个有变化</translation>
    </message>
    <message>
        <source>, </source>
        <translation>，</translation>
    </message>
    <message>
        <source>unknown reason</source>
        <translation>原因不明</translation>
    </message>
    <message>
        <source>failed: {reason}</source>
        <translation>失败：{reason}</translation>
    </message>
    <message>
        <source>indexed</source>
        <translation>已索引</translation>
    </message>
    <message>
        <source>pending</source>
        <translation>待处理</translation>
    </message>
</context>
</TS>
