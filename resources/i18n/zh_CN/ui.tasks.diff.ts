<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
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
</context>
</TS>
