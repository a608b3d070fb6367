"""The documents the real-component tests index, kept in ``tests/data/``.

They were written for Glassbox (see ``tests/data/README.md``), so every test runs on a
plain clone; the seed articles of ``eval/retrieval_seeds.jsonl`` are not needed.
"""

from __future__ import annotations

from pathlib import Path

DATA = (Path(__file__).parent / "data").resolve()
#: Seven articles about language models: four Chinese, three English (txt, md, html).
DOCS = DATA / "docs"
N_DOCS = 7
#: Questions about ``DOCS`` in the format of ``glassbox eval retrieval --questions``.
QUESTIONS = DATA / "questions.jsonl"

#: 大语言模型的训练、微调与压缩 (.txt): what an LLM is, fine-tuning, 知识蒸馏, quantization.
TRAINING_ZH = DOCS / "zh_training_and_compression.txt"
#: 大模型的幻觉与能力评测 (.md): the types of hallucination, MMLU, C-Eval.
HALLUCINATION_ZH = DOCS / "zh_hallucination_and_evaluation.md"
#: Fine-tuning with LoRA and other adapters (.txt).
LORA_EN = DOCS / "en_lora_and_adapters.txt"
#: How a model chooses its next token: temperature, top-k, top-p, min-p (.md).
SAMPLING_EN = DOCS / "en_sampling_and_decoding.md"
