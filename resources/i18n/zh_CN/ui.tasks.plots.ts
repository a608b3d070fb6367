<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
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
</TS>
