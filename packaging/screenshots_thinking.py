"""Screenshot for the README: a reasoning model's reply with its Thinking block open,
the reasoning's tokens tinted by probability, and the Conversation panel's Thinking
switch, from the real window on a scripted engine (no bundled model thinks).

    QT_QPA_PLATFORM=offscreen python packaging/screenshots_thinking.py docs/screenshots
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from shots import fresh_home, wait

REASONING = (
    "The user wants the total cost of 3 notebooks at 2.40 each and a pen at 1.15.\n"
    "3 × 2.40 = 7.20. Then 7.20 + 1.15 = 8.35.\n"
    "Check: 8.35 − 1.15 = 7.20, and 7.20 / 3 = 2.40. Good."
)
ANSWER = "The total is **8.35**: three notebooks cost 7.20 and the pen 1.15."

# A template with Qwen3's switch (in its shape, written for this script).
TEMPLATE = (
    "{%- for m in messages %}{{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}"
    "{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}"
    "{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}{%- endif %}"
)


def main(out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = fresh_home()
    from dataclasses import replace

    import numpy as np
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from desktop_app.app import build
    from desktop_app.bench.ui import ScriptedEngine
    from desktop_app.core.engine.protocol import EngineConfig, ModelLoaded, TokenEvent
    from desktop_app.core.sampling import Candidate, SamplingParams
    from desktop_app.core.settings import Settings
    from desktop_app.workers.engine.inference import InferenceController

    class ThinkingEngine(ScriptedEngine):
        def load(self, config: EngineConfig) -> ModelLoaded:
            loaded = super().load(config)
            return replace(loaded, has_chat_template=True, chat_template=config.chat_template)

    def tokens() -> list[TokenEvent]:
        # Cut as a BPE tokenizer would, with made-up alternatives (as `bench ui` does).
        rng = np.random.default_rng(11)
        pieces = ["<think>", "\n"]
        pieces += re.findall(r" ?[^\s]{1,4}|\n|\s", REASONING)
        pieces += ["\n", "</think>", "\n\n"]
        pieces += re.findall(r" ?[^\s]{1,4}|\n|\s", ANSWER)
        out = []
        for i, text in enumerate(pieces):
            logits = np.sort(rng.normal(0.0, 2.0, 6))[::-1]
            logits[0] += rng.uniform(0.0, 6.0)
            probs = np.exp(logits - logits.max())
            probs /= probs.sum()
            cands = tuple(
                Candidate(
                    1000 + j,
                    text if j == 0 else f"alt{j}",
                    float(logits[j]),
                    float(probs[j]),
                    float(probs[j]),
                    None,
                )
                for j in range(6)
            )
            out.append(TokenEvent(i, 1000, text, float(probs[0]), cands))
        return out

    app = QApplication.instance() or QApplication(sys.argv)
    out.mkdir(parents=True, exist_ok=True)
    model = home / "reasoning-demo-model.gguf"
    model.write_bytes(b"GGUF")

    settings = Settings(chat_template_override=TEMPLATE).with_sampling(SamplingParams.greedy())
    controller = InferenceController(lambda: ThinkingEngine(tokens(), 40.0), settings=settings)
    window = build(controller, model_spec=str(model)).window
    window.resize(1280, 860)
    window.show()
    wait(app, lambda: controller.model_loaded is not None)
    window._options.raise_()  # the Conversation panel, with its Thinking switch
    window._input.insertPlainText("3 notebooks at 2.40 and a pen at 1.15: what do I pay?")
    QTest.keyClick(window._input, Qt.Key.Key_Return)
    wait(app, lambda: not window.session.busy)
    for _ in range(20):
        app.processEvents()
    view = window._view
    reply = view.message_ids()[-1]
    view.set_thinking_expanded(reply, True)
    window._probs_check.setChecked(True)
    view.select_token(reply, 14)
    view.verticalScrollBar().setValue(0)
    for _ in range(20):
        app.processEvents()
    window.grab().save(str(out / "thinking-block.png"))
    window.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
