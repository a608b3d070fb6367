<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>SamplingPanel</name>
    <message>
        <source>random</source>
        <translation>随机</translation>
    </message>
    <message>
        <source>Sampling</source>
        <translation>采样</translation>
    </message>
    <message>
        <source>Sampling panel</source>
        <translation>采样面板</translation>
    </message>
    <message>
        <source>Sampling settings and chart</source>
        <translation>采样设置和图表</translation>
    </message>
    <message>
        <source>Sampler chain</source>
        <translation>采样器链</translation>
    </message>
    <message>
        <source>Reply</source>
        <translation>回复</translation>
    </message>
    <message>
        <source>Reply settings</source>
        <translation>回复设置</translation>
    </message>
    <message>
        <source>More samplers</source>
        <translation>更多采样器</translation>
    </message>
    <message>
        <source>Each is off at its default; llama.cpp&apos;s definitions.</source>
        <translation>默认值下均为关闭；定义与 llama.cpp 相同。</translation>
    </message>
    <message>
        <source>Random</source>
        <translation>随机</translation>
    </message>
    <message>
        <source>Random seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>Pick a new seed for every reply.</source>
        <translation>每次回复都选用新的种子。</translation>
    </message>
    <message>
        <source>Seed control</source>
        <translation>种子控件</translation>
    </message>
    <message>
        <source>Context length</source>
        <translation>上下文长度</translation>
    </message>
    <message>
        <source>Tokens the model can see at once; applies when the model is loaded again.</source>
        <translation>模型一次能看到的词元数；重新加载模型后生效。</translation>
    </message>
    <message>
        <source>Reset to defaults</source>
        <translation>恢复默认值</translation>
    </message>
    <message>
        <source>Put every sampling value and the context length back.</source>
        <translation>将所有采样参数和上下文长度恢复为默认值。</translation>
    </message>
    <message>
        <source>Selected token</source>
        <translation>选中的词元</translation>
    </message>
    <message>
        <source>Generated with</source>
        <translation>生成时的设置</translation>
    </message>
    <message>
        <source>How sampling works heading</source>
        <translation>“采样原理”标题</translation>
    </message>
    <message>
        <source>How sampling works</source>
        <translation>采样原理</translation>
    </message>
    <message>
        <source>Sampling panel contents</source>
        <translation>采样面板内容</translation>
    </message>
    <message>
        <source>Sampler order</source>
        <translation>采样器顺序</translation>
    </message>
    <message>
        <source>Sampler order preset</source>
        <translation>采样器顺序预设</translation>
    </message>
    <message>
        <source>Glassbox (temperature early)</source>
        <translation>Glassbox（温度在前）</translation>
    </message>
    <message>
        <source>llama.cpp (temperature last)</source>
        <translation>llama.cpp（温度在最后）</translation>
    </message>
    <message>
        <source>Custom</source>
        <translation>自定义</translation>
    </message>
    <message>
        <source>The order the stages run in; a stage that is off changes nothing.</source>
        <translation>各阶段的运行顺序；关闭的阶段不做任何改变。</translation>
    </message>
    <message>
        <source>Sampler stages, in order</source>
        <translation>采样器阶段（按顺序）</translation>
    </message>
    <message>
        <source>Select a stage and move it with Up or Down.</source>
        <translation>选择一个阶段，用“上移”或“下移”移动它。</translation>
    </message>
    <message>
        <source>Up</source>
        <translation>上移</translation>
    </message>
    <message>
        <source>Move the stage up</source>
        <translation>将阶段上移</translation>
    </message>
    <message>
        <source>Down</source>
        <translation>下移</translation>
    </message>
    <message>
        <source>Move the stage down</source>
        <translation>将阶段下移</translation>
    </message>
    <message>
        <source>{label} label</source>
        <translation>{label} 标签</translation>
    </message>
    <message>
        <source>The drawn token is not among the stored candidates; here is the favourite.</source>
        <translation>抽中的词元不在保存的候选词元中；这里显示可能性最高的词元。</translation>
    </message>
    <message>
        <source>Generated with {settings}. The chart shows the current settings. &lt;a href=&apos;use&apos;&gt;Use those&lt;/a&gt;</source>
        <translation>生成时使用 {settings}。图表显示的是当前设置。&lt;a href=&apos;use&apos;&gt;改用那些设置&lt;/a&gt;</translation>
    </message>
    <message>
        <source>Sampler stages are not available from a remote server: it sends only the probabilities of its top alternatives, and applies its own sampler to them. Here they are, as the server sent them.</source>
        <translation>远程服务器不提供采样器各阶段的数据：它只发送最可能的几个候选词元的概率，并用自己的采样器抽取。下面是服务器发来的原样数据。</translation>
    </message>
    <message>
        <source>{setting} {then} (now {now})</source>
        <translation>{setting} {then}（现为 {now}）</translation>
    </message>
</context>
<context>
    <name>_SliderSpin</name>
    <message>
        <source>{label} control</source>
        <translation>{label} 控件</translation>
    </message>
    <message>
        <source>{label} slider</source>
        <translation>{label} 滑块</translation>
    </message>
</context>
</TS>
