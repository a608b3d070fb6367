<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
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
