"""Screenshot for the README: Model → Evaluate… showing saved ``glassbox eval model`` runs.

The reports are the real ones ``glassbox eval model`` saved (the newest run of
each model on the set); the dialog shows them side by side.

    QT_QPA_PLATFORM=offscreen python packaging/screenshots_evaluate.py docs/screenshots mc-en
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(out: Path, data: str) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from desktop_app.core.lab.model_eval import EvalReport, load_reports, results_dir
    from desktop_app.ui.model.evaluate_dialog import EvaluateDialog

    app = QApplication.instance() or QApplication(sys.argv)
    newest: dict[str, EvalReport] = {}
    for path in sorted(results_dir().glob(f"*-{data}-*.json")):
        for rep in load_reports(path):
            if rep.data == data and rep.complete:
                newest[rep.title] = rep
    reports = sorted(newest.values(), key=lambda r: -r.accuracy)[:2]
    if not reports:
        raise SystemExit(f"no saved evaluation of {data} in {results_dir()}")
    dialog = EvaluateDialog()
    dialog.set_data(data)
    dialog.show_reports(reports)
    dialog.saved_label.setText("")
    dialog.resize(980, 800)
    dialog.show()
    app.processEvents()
    out.mkdir(parents=True, exist_ok=True)
    target = out / "model-evaluate.png"
    dialog.grab().save(str(target))
    dialog.runner.shutdown()
    print(target)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "mc-en")
