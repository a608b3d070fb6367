"""The sampling panel's words: parameter and stage names, percentages, and the
'How sampling works' text told on one token's numbers.

Kept apart from the widgets so the chart, the panel and the task tabs write
probabilities and stage names the same way.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from itertools import pairwise

from PySide6.QtCore import QCoreApplication

from desktop_app.core.sampling import PipelineStage, SamplingParams, param_bounds

# The hint's English source text; the window shows it translated, through ``hint()``.
HINT = "Select a token in a reply to see how it was drawn."


def hint() -> str:
    """What the chart says when no token is selected."""
    return QCoreApplication.translate(
        "SamplingPanel", "Select a token in a reply to see how it was drawn."
    )


def general_explanation() -> str:
    """'How sampling works' before a token is selected: the chain in general."""
    return QCoreApplication.translate(
        "SamplingPanel",
        "The model gives every token in its vocabulary a score. The sampler turns the scores into probabilities and reshapes them in this order: the <b>repeat penalty</b> lowers recently used tokens, <b>temperature</b> sharpens (below 1) or flattens (above 1) the distribution, <b>top-k</b> keeps the k most likely, <b>top-p</b> keeps the fewest whose probabilities add up to p, and <b>min-p</b> drops tokens far less likely than the best one. One token is drawn from what is left. Select a token in a reply to see these steps on its numbers.",  # noqa: E501
    )


def param_label(name: str) -> str:
    """The translated label of a sampling parameter (the core's English one as a fallback)."""
    labels = {
        "temperature": QCoreApplication.translate("SamplingPanel", "Temperature"),
        "top_k": QCoreApplication.translate("SamplingPanel", "Top-k"),
        "top_p": QCoreApplication.translate("SamplingPanel", "Top-p"),
        "min_p": QCoreApplication.translate("SamplingPanel", "Min-p"),
        "repeat_penalty": QCoreApplication.translate("SamplingPanel", "Repeat penalty"),
        "repeat_last_n": QCoreApplication.translate("SamplingPanel", "Penalty window"),
        "seed": QCoreApplication.translate("SamplingPanel", "Seed"),
        "max_tokens": QCoreApplication.translate("SamplingPanel", "Max tokens"),
        "loop_stop": QCoreApplication.translate("SamplingPanel", "Loop stop"),
        "typical_p": QCoreApplication.translate("SamplingPanel", "Typical-p"),
        "top_n_sigma": QCoreApplication.translate("SamplingPanel", "Top-nσ"),
        "xtc_probability": QCoreApplication.translate("SamplingPanel", "XTC probability"),
        "xtc_threshold": QCoreApplication.translate("SamplingPanel", "XTC threshold"),
        "dynatemp_range": QCoreApplication.translate("SamplingPanel", "Dynamic temp. range"),
        "dynatemp_exponent": QCoreApplication.translate("SamplingPanel", "Dynamic temp. exponent"),
        "dry_multiplier": QCoreApplication.translate("SamplingPanel", "DRY multiplier"),
        "dry_base": QCoreApplication.translate("SamplingPanel", "DRY base"),
        "dry_allowed_length": QCoreApplication.translate("SamplingPanel", "DRY allowed length"),
        "dry_last_n": QCoreApplication.translate("SamplingPanel", "DRY window"),
        "mirostat": QCoreApplication.translate("SamplingPanel", "Mirostat"),
        "mirostat_tau": QCoreApplication.translate("SamplingPanel", "Mirostat τ"),
        "mirostat_eta": QCoreApplication.translate("SamplingPanel", "Mirostat η"),
        "order": QCoreApplication.translate("SamplingPanel", "Sampler order"),
    }
    return labels.get(name) or str(param_bounds()[name]["label"])


def param_help(name: str) -> str:
    """The translated help text of a sampling parameter."""
    texts = {
        "temperature": QCoreApplication.translate(
            "SamplingPanel", "0 is greedy; higher flattens the distribution."
        ),
        "top_k": QCoreApplication.translate(
            "SamplingPanel", "Keep the k most likely tokens (0: off)."
        ),
        "top_p": QCoreApplication.translate(
            "SamplingPanel", "Keep the smallest set reaching this mass (1: off)."
        ),
        "min_p": QCoreApplication.translate(
            "SamplingPanel", "Drop tokens below this share of the top one (0: off)."
        ),
        "repeat_penalty": QCoreApplication.translate(
            "SamplingPanel", "Penalise recently used tokens (1: off)."
        ),
        "repeat_last_n": QCoreApplication.translate(
            "SamplingPanel", "How many recent tokens are penalised."
        ),
        "seed": QCoreApplication.translate(
            "SamplingPanel", "Same seed and settings give the same reply."
        ),
        "max_tokens": QCoreApplication.translate("SamplingPanel", "Longest reply, in tokens."),
        "loop_stop": QCoreApplication.translate(
            "SamplingPanel",
            "End the reply once its last stretch has been written again this many times in a"
            " row, over 200 characters at least (0: off).",
        ),
        "typical_p": QCoreApplication.translate(
            "SamplingPanel",
            "Keep the tokens whose surprise is closest to the average, up to this mass (1: off).",
        ),
        "top_n_sigma": QCoreApplication.translate(
            "SamplingPanel",
            "Drop tokens more than n standard deviations of the logits below the top one (0: off).",
        ),
        "xtc_probability": QCoreApplication.translate(
            "SamplingPanel", "How often XTC removes the most likely tokens (0: off)."
        ),
        "xtc_threshold": QCoreApplication.translate(
            "SamplingPanel",
            "XTC removes every token at or above this probability but the least likely of them (above 0.5: off).",  # noqa: E501
        ),
        "dynatemp_range": QCoreApplication.translate(
            "SamplingPanel",
            "Temperature moves within ± this range with the distribution's entropy (0: off).",
        ),
        "dynatemp_exponent": QCoreApplication.translate(
            "SamplingPanel", "How the entropy maps to the temperature (1: linear)."
        ),
        "dry_multiplier": QCoreApplication.translate(
            "SamplingPanel", "Penalise tokens that would repeat an earlier sequence (0: off)."
        ),
        "dry_base": QCoreApplication.translate(
            "SamplingPanel", "How fast DRY's penalty grows with the repeat's length."
        ),
        "dry_allowed_length": QCoreApplication.translate(
            "SamplingPanel", "Repeats this long or shorter are not penalised."
        ),
        "dry_last_n": QCoreApplication.translate(
            "SamplingPanel",
            "How many recent tokens DRY searches for repeats (-1: the whole context).",
        ),
        "mirostat": QCoreApplication.translate(
            "SamplingPanel",
            "Aim the surprise of each token at τ (0: off, 1: version 1, 2: version 2). It replaces top-k, typical-p, top-p, min-p, XTC and top-nσ.",  # noqa: E501
        ),
        "mirostat_tau": QCoreApplication.translate(
            "SamplingPanel", "The surprise (bits per token) mirostat aims at."
        ),
        "mirostat_eta": QCoreApplication.translate(
            "SamplingPanel", "How fast mirostat corrects towards τ."
        ),
    }
    return texts.get(name) or str(param_bounds()[name]["help"])


def stage_label(stage: PipelineStage) -> str:
    """A pipeline stage's translated name."""
    labels = {
        "raw": QCoreApplication.translate("SamplingPanel", "Raw"),
        "penalty": QCoreApplication.translate("SamplingPanel", "Repeat penalty"),
        "temperature": QCoreApplication.translate("SamplingPanel", "Temperature"),
        "top_k": QCoreApplication.translate("SamplingPanel", "Top-k"),
        "top_p": QCoreApplication.translate("SamplingPanel", "Top-p"),
        "min_p": QCoreApplication.translate("SamplingPanel", "Min-p"),
        "dry": QCoreApplication.translate("SamplingPanel", "DRY"),
        "typical_p": QCoreApplication.translate("SamplingPanel", "Typical-p"),
        "top_n_sigma": QCoreApplication.translate("SamplingPanel", "Top-nσ"),
        "xtc": QCoreApplication.translate("SamplingPanel", "XTC"),
        "mirostat": QCoreApplication.translate("SamplingPanel", "Mirostat"),
    }
    return labels.get(stage.name, stage.label)


def order_stage_label(name: str) -> str:
    """A stage of the sampler order's translated name."""
    return stage_label(PipelineStage(name, name, (), (), ""))


def newer_stage_notes(
    stages: Sequence[PipelineStage], params: SamplingParams, context: int
) -> list[str]:
    """What the newer stages did here, and what the history-bound ones need to be exact."""
    out = []
    for before, after in pairwise(stages):
        if after.name in ("typical_p", "top_n_sigma", "xtc", "mirostat"):
            gone = sum(before.kept) - sum(after.kept)
            out.append(
                QCoreApplication.translate(
                    "SamplingPanel", "{stage} {setting} removes {n}."
                ).format(stage=stage_label(after), setting=stage_setting(after), n=gone)
            )
    if params.dry_on():
        out.append(
            QCoreApplication.translate(
                "SamplingPanel",
                "DRY needs the tokens before this one: shown for the reply's {n} earlier tokens; in the engine it also sees the prompt, so it may cut more there.",  # noqa: E501
            ).format(n=context)
        )
    if params.mirostat:
        out.append(
            QCoreApplication.translate(
                "SamplingPanel",
                "Mirostat's target μ moves with every token of a reply; shown with μ = 2τ = {mu}, its value at the first token, over the stored candidates.",  # noqa: E501
            ).format(mu=f"{2 * params.mirostat_tau:g}")
        )
    if params.xtc_probability > 0 and params.xtc_threshold <= 0.5 and not params.mirostat:
        out.append(
            QCoreApplication.translate(
                "SamplingPanel",
                "XTC is shown as when it fires; it fires for {p} of the tokens.",
            ).format(p=percent(params.xtc_probability))
        )
    return out


def stage_setting(stage: PipelineStage) -> str:
    """A pipeline stage's setting as shown: a number, or "greedy"/"off" translated."""
    if stage.setting == "greedy":
        return QCoreApplication.translate("SamplingPanel", "greedy")
    if stage.setting == "off":
        return QCoreApplication.translate("SamplingPanel", "off")
    return stage.setting


def stage_title(stage: PipelineStage) -> str:
    """A stage's name and setting: "Temperature 0.8"."""
    return f"{stage_label(stage)} {stage_setting(stage)}".strip()


def percent(p: float) -> str:
    """A probability as the panel writes it: whole percent, finer near 0 and 1."""
    if p <= 0.0:
        return "0%"
    if p < 0.001:
        return "<0.1%"
    text = f"{p * 100:.1f}%"
    if p < 0.1 and text != "10.0%":
        return text
    text = f"{p * 100:.0f}%"
    if text == "100%" and p < 1.0:
        text = f"{p * 100:.1f}%"
        if text == "100.0%":
            text = ">99.9%"
    return text


def visible(text: str) -> str:
    """Token text with its whitespace drawn (a lone space would be invisible)."""
    return text.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥") or "∅"


def quoted(text: str) -> str:
    """Token text between quotes, whitespace drawn: how the panel names a token."""
    return f"‘{visible(text)}’"


def explain(
    texts: Sequence[str],
    stages: Sequence[PipelineStage],
    drawn: int,
    params: SamplingParams,
    penalised: int = 0,
    coverage: float | None = None,
    generated_p: float | None = None,
) -> str:
    """'How sampling works', told on one token's numbers (rich text).

    ``penalised`` is how many candidates the repeat penalty lowered; ``coverage``
    the share of the model's probability the stored candidates hold; ``generated_p``
    the probability the token was really drawn with, when the settings differ.
    """
    name = f"<b>{html.escape(quoted(texts[drawn]))}</b>"
    by = {s.name: s for s in stages}
    raw = by["raw"]
    out: list[str] = []

    top = max(range(len(raw.probs)), key=lambda i: (raw.probs[i], -i))
    if top != drawn:
        out.append(
            QCoreApplication.translate(
                "SamplingPanel",
                "The model gave {token} {p} before sampling. Its favourite was {top} with {top_p}.",
            ).format(
                token=name,
                p=percent(raw.probs[drawn]),
                top=html.escape(quoted(texts[top])),
                top_p=percent(raw.probs[top]),
            )
        )
    else:
        out.append(
            QCoreApplication.translate(
                "SamplingPanel", "The model gave {token} {p} before sampling."
            ).format(token=name, p=percent(raw.probs[drawn]))
        )

    if "penalty" in by:
        pen = by["penalty"]
        if penalised == 1:
            out.append(
                QCoreApplication.translate(
                    "SamplingPanel",
                    "Repeat penalty {value} lowers {count} recently used candidate; {token} now has {p}.",  # noqa: E501
                ).format(
                    value=f"{params.repeat_penalty:g}",
                    count=penalised,
                    token=name,
                    p=percent(pen.probs[drawn]),
                )
            )
        elif penalised:
            out.append(
                QCoreApplication.translate(
                    "SamplingPanel",
                    "Repeat penalty {value} lowers {count} recently used candidates; {token} now has {p}.",  # noqa: E501
                ).format(
                    value=f"{params.repeat_penalty:g}",
                    count=penalised,
                    token=name,
                    p=percent(pen.probs[drawn]),
                )
            )
        else:
            out.append(
                QCoreApplication.translate(
                    "SamplingPanel",
                    "Repeat penalty {value} finds none of these candidates among the last {count} tokens.",  # noqa: E501
                ).format(value=f"{params.repeat_penalty:g}", count=params.repeat_last_n)
            )

    temp = by["temperature"]
    prev_stage = {after.name: before for before, after in pairwise(stages)}
    t = params.temperature
    if t == 0.0:
        best = next(i for i, k in enumerate(temp.kept) if k)
        out.append(
            QCoreApplication.translate(
                "SamplingPanel",
                "Temperature 0 is greedy: only the most likely token, {token}, can be drawn; top-k, top-p and min-p have nothing left to do.",  # noqa: E501
            ).format(token=html.escape(quoted(texts[best])))
        )
    else:
        if t == 1.0:
            out.append(
                QCoreApplication.translate(
                    "SamplingPanel", "Temperature 1 leaves the distribution as it is."
                )
            )
        else:
            if t < 1.0:
                sentence = QCoreApplication.translate(
                    "SamplingPanel",
                    "Temperature {value} sharpens the distribution: {token} goes from {before} to {after}.",  # noqa: E501
                )
            else:
                sentence = QCoreApplication.translate(
                    "SamplingPanel",
                    "Temperature {value} flattens the distribution: {token} goes from {before} to {after}.",  # noqa: E501
                )
            out.append(
                sentence.format(
                    value=f"{t:g}",
                    token=name,
                    # against the stage just before it: in llama.cpp's order that is min-p
                    before=percent(prev_stage["temperature"].probs[drawn]),
                    after=percent(temp.probs[drawn]),
                )
            )
        out.extend(_truncation_sentences(by, prev_stage, params))

    final = stages[-1]
    p_final = percent(final.probs[drawn])
    if final.kept[drawn]:
        if generated_p is None:
            out.append(
                QCoreApplication.translate("SamplingPanel", "{token} was drawn with {p}.").format(
                    token=name, p=p_final
                )
            )
        elif percent(generated_p) == p_final:
            out.append(
                QCoreApplication.translate(
                    "SamplingPanel",
                    "With these settings {token} would be drawn with {p}, as it was.",
                ).format(token=name, p=p_final)
            )
        else:
            out.append(
                QCoreApplication.translate(
                    "SamplingPanel",
                    "With these settings {token} would be drawn with {p}; it was drawn with {then}.",  # noqa: E501
                ).format(token=name, p=p_final, then=percent(generated_p))
            )
    else:
        cut = next(s for prev, s in pairwise(stages) if prev.kept[drawn] and not s.kept[drawn])
        if generated_p is not None:
            out.append(
                QCoreApplication.translate(
                    "SamplingPanel",
                    "With these settings {token} could not be drawn: {stage} removes it. It was drawn with {then}.",  # noqa: E501
                ).format(token=name, stage=_stage_phrase(cut), then=percent(generated_p))
            )
        else:
            out.append(
                QCoreApplication.translate(
                    "SamplingPanel",
                    "With these settings {token} could not be drawn: {stage} removes it.",
                ).format(token=name, stage=_stage_phrase(cut))
            )
    # One line per stage reads as the chain it describes.
    text = "<br>".join(out)
    if coverage is not None and coverage < 0.995:
        note = QCoreApplication.translate(
            "SamplingPanel",
            "Figures are over the {count} stored candidates, which hold {p} of the model's probability.",  # noqa: E501
        ).format(count=len(raw.probs), p=percent(coverage))
        text += f"<br><small>{note}</small>"
    return text


def _stage_phrase(stage: PipelineStage) -> str:
    if stage.name == "temperature":
        return QCoreApplication.translate("SamplingPanel", "greedy decoding")
    return stage_title(stage)


def _truncation_sentences(
    by: dict[str, PipelineStage], prev: dict[str, PipelineStage], params: SamplingParams
) -> list[str]:
    """What top-k, top-p and min-p each kept, in words (each against the stage before it)."""
    out = []
    top_k, top_p, min_p = by["top_k"], by["top_p"], by["min_p"]
    total = sum(prev["top_k"].kept)
    kept_k = sum(top_k.kept)
    if params.top_k == 0:
        out.append(QCoreApplication.translate("SamplingPanel", "Top-k is off."))
    elif kept_k == total:
        out.append(
            QCoreApplication.translate(
                "SamplingPanel", "Top-k {k} keeps all {total} candidates."
            ).format(k=params.top_k, total=total)
        )
    else:
        out.append(
            QCoreApplication.translate(
                "SamplingPanel", "Top-k {k} keeps {kept} of {total} candidates."
            ).format(k=params.top_k, kept=kept_k, total=total)
        )

    before_p = prev["top_p"]
    kept_p = sum(top_p.kept)
    if params.top_p >= 1.0:
        out.append(QCoreApplication.translate("SamplingPanel", "Top-p is off."))
    else:
        mass = sum(p for p, k in zip(before_p.probs, top_p.kept, strict=True) if k)
        value = f"{params.top_p:g}"
        if kept_p == sum(before_p.kept):
            out.append(
                QCoreApplication.translate("SamplingPanel", "Top-p {p} keeps all {kept}.").format(
                    p=value, kept=kept_p
                )
            )
        elif kept_p == 1:
            out.append(
                QCoreApplication.translate(
                    "SamplingPanel",
                    "Top-p {p} keeps only the most likely one: it alone holds {mass}.",
                ).format(p=value, mass=percent(mass))
            )
        else:
            out.append(
                QCoreApplication.translate(
                    "SamplingPanel",
                    "Top-p {p} keeps the {kept} most likely, which hold {mass} together.",
                ).format(p=value, kept=kept_p, mass=percent(mass))
            )

    if params.min_p <= 0.0:
        out.append(QCoreApplication.translate("SamplingPanel", "Min-p is off."))
    else:
        before_m = prev["min_p"]
        best = max(p for p, k in zip(before_m.probs, before_m.kept, strict=True) if k)
        floor = params.min_p * best
        gone = sum(before_m.kept) - sum(min_p.kept)
        if gone:
            sentence = QCoreApplication.translate(
                "SamplingPanel",
                "Min-p {p} removes tokens below {floor} ({share}% of the top one): {gone} go.",
            )
        else:
            sentence = QCoreApplication.translate(
                "SamplingPanel",
                "Min-p {p} removes tokens below {floor} ({share}% of the top one): none here.",
            )
        out.append(
            sentence.format(
                p=f"{params.min_p:g}",
                floor=percent(floor),
                share=f"{params.min_p * 100:g}",
                gone=gone,
            )
        )
    return out
