"""Optical character recognition of scanned pages and images (Chinese and English).

The recognizer is RapidOCR (PP-OCRv4 detection and recognition, ONNX Runtime on the
CPU); its three models are files inside the ``rapidocr_onnxruntime`` wheel, so
nothing is downloaded, and with ONNX Runtime's telemetry turned off (see
:func:`quiet_onnxruntime`) nothing is written anywhere and nothing is sent. It is loaded
once per parser process, on the first page that needs it, with its log kept quiet.

Only the parser process (``parse_host``) calls this: the image is decoded there,
under its memory and time limits. Each recognised line keeps its confidence, and
lines are grouped into paragraphs by the gaps between them, so the chunker sees
the same paragraphs a reader does.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

#: Inference threads: as many as the machine has, at most 4 (more buys little for
#: one page and starves the app's own threads).
_THREADS = max(1, min(4, os.cpu_count() or 1))
#: Lines the recognizer is less sure of are dropped (its own default is 0.5).
MIN_LINE_CONFIDENCE = 0.5
#: Pages are scaled down to this longest side before recognition: the detector works
#: at well under it, and a 600 dpi scan would only cost memory.
MAX_SIDE = 3000
_CJK_END = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")

_engine: Any = None


@dataclass(frozen=True, slots=True)
class OcrLine:
    """One recognised line: its text, the recognizer's confidence (0–1) and where it sits."""

    text: str
    confidence: float
    top: float
    bottom: float
    left: float


@dataclass(frozen=True, slots=True)
class OcrParagraph:
    """Consecutive lines with no wider gap between them than a line's height."""

    lines: tuple[OcrLine, ...]

    def joined(self) -> list[str]:
        """The pieces that make the paragraph's text: lines and the separators between."""
        pieces: list[str] = []
        for i, line in enumerate(self.lines):
            if i:
                before = self.lines[i - 1].text[-1:]
                # A Chinese line wrapped mid-sentence continues without a space.
                chinese = _CJK_END.match(before) and _CJK_END.match(line.text[:1])
                pieces.append("" if chinese else " ")
            pieces.append(line.text)
        return pieces


def quiet_onnxruntime() -> None:
    """Keep ONNX Runtime from phoning home: its Linux build (1.32) otherwise writes a
    device id under ``~/.cache/Microsoft`` and resolves Microsoft's telemetry host as
    soon as a session is made. Read when the library loads, so set before."""
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"


def engine() -> Any:
    """The recognizer, loaded once (about 0.3 s and 80 MB of models)."""
    global _engine
    if _engine is None:
        quiet_onnxruntime()
        from rapidocr_onnxruntime import RapidOCR

        # Its logger prints every model load at DEBUG level to stderr by default.
        logging.getLogger("RapidOCR").setLevel(logging.WARNING)
        _engine = RapidOCR(
            intra_op_num_threads=_THREADS,
            inter_op_num_threads=1,
            print_verbose=False,
            text_score=MIN_LINE_CONFIDENCE,
        )
    return _engine


def recognize(image: Image.Image) -> list[OcrLine]:
    """The lines of text in ``image``, top to bottom, with their confidences."""
    import numpy as np
    from PIL import Image as PilImage

    if max(image.size) > MAX_SIDE:
        scale = MAX_SIDE / max(image.size)
        image = image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))),
            PilImage.Resampling.LANCZOS,
        )
    if image.mode != "RGB":
        image = image.convert("RGB")
    # RapidOCR expects OpenCV's channel order.
    pixels = np.ascontiguousarray(np.asarray(image)[:, :, ::-1])
    result, _elapsed = engine()(pixels)
    lines: list[OcrLine] = []
    for box, text, score in result or []:
        text = " ".join(str(text).split())
        if not text:
            continue
        # The box's corners run clockwise from its top left; its left edge gives the
        # line's height and place even when the page is skewed (the box is not).
        (left, top), _tr, _br, (_bl_x, bottom) = ((float(p[0]), float(p[1])) for p in box)
        lines.append(OcrLine(text, float(score), top, max(bottom, top + 1.0), left))
    lines.sort(key=lambda line: (round(line.top), line.left))
    return lines


def paragraphs(lines: list[OcrLine]) -> list[OcrParagraph]:
    """Lines grouped into paragraphs: a gap taller than 0.8 × the line height splits."""
    out: list[OcrParagraph] = []
    current: list[OcrLine] = []
    for line in lines:
        if current:
            prev = current[-1]
            height = max(prev.bottom - prev.top, 1.0)
            if line.top - prev.bottom > 0.8 * height:
                out.append(OcrParagraph(tuple(current)))
                current = []
        current.append(line)
    if current:
        out.append(OcrParagraph(tuple(current)))
    return out
