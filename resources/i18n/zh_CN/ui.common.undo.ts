<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>UndoBar</name>
    <message>
        <source>What was deleted</source>
        <translation>已删除的内容</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <source>Undo delete</source>
        <translation>撤销删除</translation>
    </message>
    <message>
        <source>Bring back what was just deleted</source>
        <translation>恢复刚刚删除的内容</translation>
    </message>
</context>
</TS>
