<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>SamplingPanel</name>
    <message>
        <source>Select a token in a reply to see how it was drawn.</source>
        <translation>在回复中选择一个词元，查看它是如何被抽中的。</translation>
    </message>
    <message>
        <source>The model gives every token in its vocabulary a score. The sampler turns the scores into probabilities and reshapes them in this order: the &lt;b&gt;repeat penalty&lt;/b&gt; lowers recently used tokens, &lt;b&gt;temperature&lt;/b&gt; sharpens (below 1) or flattens (above 1) the distribution, &lt;b&gt;top-k&lt;/b&gt; keeps the k most likely, &lt;b&gt;top-p&lt;/b&gt; keeps the fewest whose probabilities add up to p, and &lt;b&gt;min-p&lt;/b&gt; drops tokens far less likely than the best one. One token is drawn from what is left. Select a token in a reply to see these steps on its numbers.</source>
        <translation>模型为词表中的每个词元打分。采样器把分数转换为概率，并按以下顺序调整：&lt;b&gt;重复惩罚&lt;/b&gt;降低最近用过的词元，&lt;b&gt;温度&lt;/b&gt;使分布更尖锐（小于 1）或更平坦（大于 1），&lt;b&gt;top-k&lt;/b&gt; 保留可能性最高的 k 个，&lt;b&gt;top-p&lt;/b&gt; 保留概率累计达到 p 的最少词元，&lt;b&gt;min-p&lt;/b&gt; 去掉远不如最佳词元可能的词元。最后从剩下的词元中抽取一个。在回复中选择一个词元，即可在它的数据上查看这些步骤。</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <source>Top-k</source>
        <translation>Top-k</translation>
    </message>
    <message>
        <source>Top-p</source>
        <translation>Top-p</translation>
    </message>
    <message>
        <source>Min-p</source>
        <translation>Min-p</translation>
    </message>
    <message>
        <source>Repeat penalty</source>
        <translation>重复惩罚</translation>
    </message>
    <message>
        <source>Penalty window</source>
        <translation>惩罚窗口</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>种子</translation>
    </message>
    <message>
        <source>Max tokens</source>
        <translation>最大词元数</translation>
    </message>
    <message>
        <source>Loop stop</source>
        <translation>循环终止</translation>
    </message>
    <message>
        <source>Typical-p</source>
        <translation>典型采样（Typical-p）</translation>
    </message>
    <message>
        <source>Top-nσ</source>
        <translation>Top-nσ</translation>
    </message>
    <message>
        <source>XTC probability</source>
        <translation>XTC 概率</translation>
    </message>
    <message>
        <source>XTC threshold</source>
        <translation>XTC 阈值</translation>
    </message>
    <message>
        <source>Dynamic temp. range</source>
        <translation>动态温度范围</translation>
    </message>
    <message>
        <source>Dynamic temp. exponent</source>
        <translation>动态温度指数</translation>
    </message>
    <message>
        <source>DRY multiplier</source>
        <translation>DRY 强度</translation>
    </message>
    <message>
        <source>DRY base</source>
        <translation>DRY 底数</translation>
    </message>
    <message>
        <source>DRY allowed length</source>
        <translation>DRY 允许长度</translation>
    </message>
    <message>
        <source>DRY window</source>
        <translation>DRY 窗口</translation>
    </message>
    <message>
        <source>Mirostat</source>
        <translation>Mirostat</translation>
    </message>
    <message>
        <source>Mirostat τ</source>
        <translation>Mirostat τ</translation>
    </message>
    <message>
        <source>Mirostat η</source>
        <translation>Mirostat η</translation>
    </message>
    <message>
        <source>Sampler order</source>
        <translation>采样器顺序</translation>
    </message>
    <message>
        <source>0 is greedy; higher flattens the distribution.</source>
        <translation>0 为贪心；越高分布越平坦。</translation>
    </message>
    <message>
        <source>Keep the k most likely tokens (0: off).</source>
        <translation>保留可能性最高的 k 个词元（0：关闭）。</translation>
    </message>
    <message>
        <source>Keep the smallest set reaching this mass (1: off).</source>
        <translation>保留累计概率达到此值的最小集合（1：关闭）。</translation>
    </message>
    <message>
        <source>Drop tokens below this share of the top one (0: off).</source>
        <translation>去掉概率低于最高者此比例的词元（0：关闭）。</translation>
    </message>
    <message>
        <source>Penalise recently used tokens (1: off).</source>
        <translation>惩罚最近用过的词元（1：关闭）。</translation>
    </message>
    <message>
        <source>How many recent tokens are penalised.</source>
        <translation>对最近多少个词元进行惩罚。</translation>
    </message>
    <message>
        <source>Same seed and settings give the same reply.</source>
        <translation>相同的种子和设置会得到相同的回复。</translation>
    </message>
    <message>
        <source>Longest reply, in tokens.</source>
        <translation>回复的最大长度（词元数）。</translation>
    </message>
    <message>
        <source>End the reply once its last stretch has been written again this many times in a row, over 200 characters at least (0: off).</source>
        <translation>回复末尾的同一段文字又连续重写这么多次、且总长至少 200 个字符时，结束回复（0：关闭）。</translation>
    </message>
    <message>
        <source>Keep the tokens whose surprise is closest to the average, up to this mass (1: off).</source>
        <translation>保留惊奇度最接近平均值的词元，直到累计达到此概率（1：关闭）。</translation>
    </message>
    <message>
        <source>Drop tokens more than n standard deviations of the logits below the top one (0: off).</source>
        <translation>去掉 logit 比最高者低 n 个标准差以上的词元（0：关闭）。</translation>
    </message>
    <message>
        <source>How often XTC removes the most likely tokens (0: off).</source>
        <translation>XTC 去掉最可能词元的频率（0：关闭）。</translation>
    </message>
    <message>
        <source>XTC removes every token at or above this probability but the least likely of them (above 0.5: off).</source>
        <translation>XTC 去掉概率不低于此值的所有词元，只留下其中最不可能的一个（大于 0.5：关闭）。</translation>
    </message>
    <message>
        <source>Temperature moves within ± this range with the distribution&apos;s entropy (0: off).</source>
        <translation>温度随分布的熵在 ± 此范围内变化（0：关闭）。</translation>
    </message>
    <message>
        <source>How the entropy maps to the temperature (1: linear).</source>
        <translation>熵如何映射到温度（1：线性）。</translation>
    </message>
    <message>
        <source>Penalise tokens that would repeat an earlier sequence (0: off).</source>
        <translation>惩罚会重复先前序列的词元（0：关闭）。</translation>
    </message>
    <message>
        <source>How fast DRY&apos;s penalty grows with the repeat&apos;s length.</source>
        <translation>DRY 的惩罚随重复长度增长的速度。</translation>
    </message>
    <message>
        <source>Repeats this long or shorter are not penalised.</source>
        <translation>不超过此长度的重复不受惩罚。</translation>
    </message>
    <message>
        <source>How many recent tokens DRY searches for repeats (-1: the whole context).</source>
        <translation>DRY 在最近多少个词元中查找重复（-1：整个上下文）。</translation>
    </message>
    <message>
        <source>Aim the surprise of each token at τ (0: off, 1: version 1, 2: version 2). It replaces top-k, typical-p, top-p, min-p, XTC and top-nσ.</source>
        <translation>让每个词元的惊奇度趋向 τ（0：关闭，1：第 1 版，2：第 2 版）。它取代 top-k、typical-p、top-p、min-p、XTC 和 top-nσ。</translation>
    </message>
    <message>
        <source>The surprise (bits per token) mirostat aims at.</source>
        <translation>Mirostat 追求的惊奇度（每词元比特数）。</translation>
    </message>
    <message>
        <source>How fast mirostat corrects towards τ.</source>
        <translation>Mirostat 向 τ 校正的速度。</translation>
    </message>
    <message>
        <source>Raw</source>
        <translation>原始</translation>
    </message>
    <message>
        <source>DRY</source>
        <translation>DRY</translation>
    </message>
    <message>
        <source>XTC</source>
        <translation>XTC</translation>
    </message>
    <message>
        <source>{stage} {setting} removes {n}.</source>
        <translation>{stage} {setting} 去掉了 {n} 个。</translation>
    </message>
    <message>
        <source>DRY needs the tokens before this one: shown for the reply&apos;s {n} earlier tokens; in the engine it also sees the prompt, so it may cut more there.</source>
        <translation>DRY 需要此前的词元：这里按回复中此前的 {n} 个词元显示；引擎中它还会看到提示词，因此可能去掉更多。</translation>
    </message>
    <message>
        <source>Mirostat&apos;s target μ moves with every token of a reply; shown with μ = 2τ = {mu}, its value at the first token, over the stored candidates.</source>
        <translation>Mirostat 的目标 μ 随回复的每个词元变化；这里按 μ = 2τ = {mu}（第一个词元时的值）在保存的候选词上显示。</translation>
    </message>
    <message>
        <source>XTC is shown as when it fires; it fires for {p} of the tokens.</source>
        <translation>XTC 按触发时的效果显示；它在 {p} 的词元上触发。</translation>
    </message>
    <message>
        <source>greedy</source>
        <translation>贪心</translation>
    </message>
    <message>
        <source>off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>The model gave {token} {p} before sampling. Its favourite was {top} with {top_p}.</source>
        <translation>采样前，模型给 {token} 的概率是 {p}。它最看好的是 {top}，概率 {top_p}。</translation>
    </message>
    <message>
        <source>The model gave {token} {p} before sampling.</source>
        <translation>采样前，模型给 {token} 的概率是 {p}。</translation>
    </message>
    <message>
        <source>Repeat penalty {value} lowers {count} recently used candidate; {token} now has {p}.</source>
        <translation>重复惩罚 {value} 降低了 {count} 个最近用过的候选词元；{token} 现在为 {p}。</translation>
    </message>
    <message>
        <source>Repeat penalty {value} lowers {count} recently used candidates; {token} now has {p}.</source>
        <translation>重复惩罚 {value} 降低了 {count} 个最近用过的候选词元；{token} 现在为 {p}。</translation>
    </message>
    <message>
        <source>Repeat penalty {value} finds none of these candidates among the last {count} tokens.</source>
        <translation>重复惩罚 {value} 在最近 {count} 个词元中没有找到这些候选词元。</translation>
    </message>
    <message>
        <source>Temperature 0 is greedy: only the most likely token, {token}, can be drawn; top-k, top-p and min-p have nothing left to do.</source>
        <translation>温度 0 即贪心：只有可能性最高的词元 {token} 能被抽中；top-k、top-p 和 min-p 无事可做。</translation>
    </message>
    <message>
        <source>Temperature 1 leaves the distribution as it is.</source>
        <translation>温度 1 保持分布不变。</translation>
    </message>
    <message>
        <source>Temperature {value} sharpens the distribution: {token} goes from {before} to {after}.</source>
        <translation>温度 {value} 使分布更尖锐：{token} 从 {before} 变为 {after}。</translation>
    </message>
    <message>
        <source>Temperature {value} flattens the distribution: {token} goes from {before} to {after}.</source>
        <translation>温度 {value} 使分布更平坦：{token} 从 {before} 变为 {after}。</translation>
    </message>
    <message>
        <source>{token} was drawn with {p}.</source>
        <translation>{token} 以 {p} 的概率被抽中。</translation>
    </message>
    <message>
        <source>With these settings {token} would be drawn with {p}, as it was.</source>
        <translation>按当前设置，{token} 被抽中的概率为 {p}，与当时相同。</translation>
    </message>
    <message>
        <source>With these settings {token} would be drawn with {p}; it was drawn with {then}.</source>
        <translation>按当前设置，{token} 被抽中的概率为 {p}；当时为 {then}。</translation>
    </message>
    <message>
        <source>With these settings {token} could not be drawn: {stage} removes it. It was drawn with {then}.</source>
        <translation>按当前设置，{token} 不可能被抽中：{stage} 会移除它。当时它以 {then} 的概率被抽中。</translation>
    </message>
    <message>
        <source>With these settings {token} could not be drawn: {stage} removes it.</source>
        <translation>按当前设置，{token} 不可能被抽中：{stage} 会移除它。</translation>
    </message>
    <message>
        <source>Figures are over the {count} stored candidates, which hold {p} of the model&apos;s probability.</source>
        <translation>数字基于保存的 {count} 个候选词元，它们占模型概率的 {p}。</translation>
    </message>
    <message>
        <source>greedy decoding</source>
        <translation>贪心解码</translation>
    </message>
    <message>
        <source>Top-k is off.</source>
        <translation>Top-k 已关闭。</translation>
    </message>
    <message>
        <source>Top-k {k} keeps all {total} candidates.</source>
        <translation>Top-k {k} 保留全部 {total} 个候选词元。</translation>
    </message>
    <message>
        <source>Top-k {k} keeps {kept} of {total} candidates.</source>
        <translation>Top-k {k} 保留 {total} 个候选词元中的 {kept} 个。</translation>
    </message>
    <message>
        <source>Top-p is off.</source>
        <translation>Top-p 已关闭。</translation>
    </message>
    <message>
        <source>Top-p {p} keeps all {kept}.</source>
        <translation>Top-p {p} 保留全部 {kept} 个。</translation>
    </message>
    <message>
        <source>Top-p {p} keeps only the most likely one: it alone holds {mass}.</source>
        <translation>Top-p {p} 只保留可能性最高的一个：它独占 {mass}。</translation>
    </message>
    <message>
        <source>Top-p {p} keeps the {kept} most likely, which hold {mass} together.</source>
        <translation>Top-p {p} 保留可能性最高的 {kept} 个，它们合计占 {mass}。</translation>
    </message>
    <message>
        <source>Min-p is off.</source>
        <translation>Min-p 已关闭。</translation>
    </message>
    <message>
        <source>Min-p {p} removes tokens below {floor} ({share}% of the top one): {gone} go.</source>
        <translation>Min-p {p} 移除低于 {floor}（最高者的 {share}%）的词元：移除 {gone} 个。</translation>
    </message>
    <message>
        <source>Min-p {p} removes tokens below {floor} ({share}% of the top one): none here.</source>
        <translation>Min-p {p} 移除低于 {floor}（最高者的 {share}%）的词元：这里没有。</translation>
    </message>
</context>
</TS>
