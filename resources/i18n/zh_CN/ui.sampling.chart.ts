<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>PipelineChart</name>
    <message>
        <source>Pen.</source>
        <translation>惩罚</translation>
    </message>
    <message>
        <source>Temp.</source>
        <translation>温度</translation>
    </message>
    <message>
        <source>greedy</source>
        <translation>贪心</translation>
    </message>
    <message>
        <source>Sampling pipeline chart</source>
        <translation>采样流程图</translation>
    </message>
    <message>
        <source>Drawn token {token}.</source>
        <translation>抽中的词元：{token}。</translation>
    </message>
    <message>
        <source>{token} {value} percent</source>
        <translation>{token} 百分之 {value}</translation>
    </message>
    <message>
        <source>Before sampling: {list}.</source>
        <translation>采样前：{list}。</translation>
    </message>
    <message>
        <source>After min-p: {list}.</source>
        <translation>min-p 之后：{list}。</translation>
    </message>
    <message>
        <source>drawn</source>
        <translation>抽中</translation>
    </message>
    <message>
        <source>{count} others</source>
        <translation>其余 {count} 个</translation>
    </message>
    <message>
        <source>The {count} less likely candidates together.</source>
        <translation>其余 {count} 个可能性较低的候选词元合计。</translation>
    </message>
    <message>
        <source>{token} (drawn)</source>
        <translation>{token}（抽中）</translation>
    </message>
    <message>
        <source>{token} after {stage}: {value}%</source>
        <translation>{token} 经过 {stage} 后：{value}%</translation>
    </message>
    <message>
        <source>{token} before sampling: {value}%</source>
        <translation>{token} 采样前：{value}%</translation>
    </message>
    <message>
        <source>{token} was removed (after {stage}).</source>
        <translation>{token} 已被移除（在 {stage} 处）。</translation>
    </message>
    <message>
        <source>{token} was removed (before sampling).</source>
        <translation>{token} 已被移除（采样前）。</translation>
    </message>
</context>
</TS>
