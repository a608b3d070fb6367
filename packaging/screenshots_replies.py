"""Screenshots for the README: a Markdown reply (a table, code in two languages) and a
queued message, from the real window on the canned fake engine.

    QT_QPA_PLATFORM=offscreen python packaging/screenshots_replies.py docs/screenshots
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from shots import fresh_home, wait

REPLY = """## Sampling stages

| Stage | Keeps | Typical value |
|:------|:-----:|--------------:|
| `temperature` | all, reshaped | 0.8 |
| **top-k** | the *k* most likely | 40 |
| top-p | smallest set with mass *p* | 0.95 |

1. Scale the logits, then keep the best:
   - see the [llama.cpp notes](https://github.com/ggerganov/llama.cpp)

```python
def softmax(logits, temperature=0.8):
    # Scale, then normalise so the values sum to one.
    top = max(logits)
    return [math.exp((x - top) / temperature) for x in logits]
```

```rust
fn top_k(probs: &[f32], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..probs.len()).collect();
    idx.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
    idx.truncate(k); // keep the k most likely
    idx
}
```
"""


def main(out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = fresh_home()
    import re

    import numpy as np
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from desktop_app.app import build
    from desktop_app.bench.ui import ScriptedEngine
    from desktop_app.core.engine.protocol import TokenEvent
    from desktop_app.core.sampling import Candidate, SamplingParams
    from desktop_app.core.settings import Settings
    from desktop_app.workers.engine.inference import InferenceController

    def tokens() -> list[TokenEvent]:
        # Cut as a BPE tokenizer would, with made-up alternatives (as `bench ui` does).
        rng = np.random.default_rng(7)
        out = []
        for i, text in enumerate(re.findall(r" ?[^\s]{1,4}|\n|\s", REPLY)):
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
    model = home / "tiny-demo-model.gguf"
    model.write_bytes(b"GGUF")

    def window_for(rate: float) -> tuple[object, InferenceController]:
        controller = InferenceController(
            lambda: ScriptedEngine(tokens(), rate),
            settings=Settings().with_sampling(SamplingParams.greedy()),
        )
        window = build(controller, model_spec=str(model)).window
        window.resize(1280, 860)
        window.show()
        wait(app, lambda: controller.model_loaded is not None)
        return window, controller

    # 1. A finished reply with a table and code in two languages.
    window, _controller = window_for(5000.0)
    window._input.insertPlainText("How do the sampling stages work? A table and code, please.")
    QTest.keyClick(window._input, Qt.Key.Key_Return)
    wait(app, lambda: not window.session.busy)
    for _ in range(20):
        app.processEvents()
    bar = window._view.verticalScrollBar()
    bar.setValue(0)
    app.processEvents()
    window.grab().save(str(out / "reply-markdown.png"))
    window.close()

    # 2. A message queued while the reply streams (in a data folder of its own).
    fresh_home()
    window, _controller = window_for(25.0)
    window._input.insertPlainText("How do the sampling stages work? A table and code, please.")
    QTest.keyClick(window._input, Qt.Key.Key_Return)
    wait(app, lambda: "Sampling" in window.transcript_text())
    window._input.insertPlainText("Then show the same in Go, please.")
    QTest.keyClick(window._input, Qt.Key.Key_Return)
    window._input.insertPlainText("这个表格也翻译成中文。")
    QTest.keyClick(window._input, Qt.Key.Key_Return)
    wait(app, lambda: "def softmax" in window.transcript_text())
    for _ in range(20):
        app.processEvents()
    window.grab().save(str(out / "queued-message.png"))
    window.session.clear_queue()
    window.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
