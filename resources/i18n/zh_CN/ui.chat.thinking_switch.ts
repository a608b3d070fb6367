<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ThinkingSwitch</name>
    <message>
        <source>Thinking</source>
        <translation>思考</translation>
    </message>
    <message>
        <source>Asks the server to turn the model&apos;s thinking on or off (chat_template_kwargs enable_thinking); its template decides.</source>
        <translation>请服务器开启或关闭模型的思考（chat_template_kwargs 中的 enable_thinking）；是否生效由服务器上的模板决定。</translation>
    </message>
    <message>
        <source>Load a model to see whether it can think before answering.</source>
        <translation>加载模型后即可看到它能否先思考再回答。</translation>
    </message>
    <message>
        <source>This model always thinks first: its chat template has no switch to turn thinking off.</source>
        <translation>此模型总是先思考：它的聊天模板没有关闭思考的开关。</translation>
    </message>
    <message>
        <source>This model&apos;s chat template has no thinking switch (such as Qwen3&apos;s enable_thinking), so it cannot be turned on or off here.</source>
        <translation>此模型的聊天模板没有思考开关（如 Qwen3 的 enable_thinking），因此无法在这里开启或关闭。</translation>
    </message>
    <message>
        <source>/think or /no_think in the system prompt</source>
        <translation>系统提示词中的 /think 或 /no_think</translation>
    </message>
    <message>
        <source>the template&apos;s {name} variable</source>
        <translation>模板的 {name} 变量</translation>
    </message>
    <message>
        <source>Let the model reason before it answers; the reasoning shows as a Thinking block above the answer. Switched through {how}; on by default: {default}.</source>
        <translation>让模型在回答前先推理；推理内容显示在回答上方的“思考过程”块中。通过{how}切换；默认开启：{default}。</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
</context>
</TS>
