"""Words for the third keyword index: Chinese segmented by jieba, other text by word.

The trigram and bigram indexes match Chinese by character n-grams, which a
paraphrased question shares little of with its answer; a word index scored by
BM25 matches the words themselves (``磁盘 配额``, not ``磁盘配``, ``盘配额``…).
Text is first normalised as for the other indexes (``keyword.normalize``: NFKC,
traditional Chinese folded to simplified, lower case), then every run of
letters, digits and CJK is a word, except that runs holding CJK are cut into
words by jieba's dictionary (shipped in its package). The result is stored
space-separated and indexed by FTS5's ``unicode61`` tokenizer, which splits on
the same boundaries.

jieba's dictionary costs about 0.55 s of CPU to build from the package and some
70 MB once loaded, so it is loaded only when Chinese text is first met, once per
process, under a lock (the window searches while it indexes). It is built in
memory, never cached: jieba would write its cache to the temporary folder, and
reading a cache took longer (0.61 s of CPU for its 9 MB) than building. jieba's
log lines are kept off the console.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from typing import Any

from desktop_app.core.kb import keyword

_STOP_WORDS = (
    # Chinese: question words, particles, pronouns and verbs of asking.
    "的 了 吗 呢 吧 啊 呀 么 嘛 是 在 有 和 与 及 或 把 被 给 对 从 到 为 以 于 就 都 也 还 "
    "又 才 再 该 让 使 得 地 着 过 之 其 等 并 而 但 若 则 即 个 这 那 这个 那个 这些 那些 "
    "这样 那样 这种 那种 哪 哪个 哪些 哪里 哪儿 什么 啥 怎么 怎样 怎么样 怎么办 如何 为什么 "
    "为何 是否 是不是 能否 能不能 可不可以 有没有 多少 几 我 你 他 她 它 我们 你们 他们 自己 "
    "想 要 想要 需要 应该 应当 可以 能 能够 会 用 一个 一些 一下 一种 某个 某些 里 里面 中 "
    "上 下 时 时候 后 之后 前 之前 请问 请 问 办法 方法 东西 得到 知道 告诉 一般 通常 "
    # English: the usual short list, and verbs of asking.
    "a an the is are was were be been being am do does did done doing have has had i me my "
    "we our you your he she it its they them their this that these those what which who whom "
    "whose when where why how to of in on at by for with from as into onto about over under "
    "and or not no nor but if then so than too very can could should would will shall may "
    "might must there here any some all each every one ones get gets got use used using want "
    "wants need needs way ways something anything thing things tell know also just only "
    "other else another"
)
#: Words of a question that say how it is asked, not what about: left out of the
#: words index's query (they are rare in documents, so BM25 would weigh them high).
STOP_WORDS = frozenset(_STOP_WORDS.split())

#: The words of a chunk sent to the index per backfill batch (chunks written before
#: the words index existed are segmented in batches of this many).
BATCH = 512

# Runs of letters, digits and CJK, as in ``keyword`` and as FTS5's unicode61 splits.
_RUN = re.compile(r"[^\W_]+", re.UNICODE)

_lock = threading.Lock()
_tokenizer: Any = None


def _load() -> Any:
    """jieba's tokenizer with its dictionary loaded (once per process, thread-safe)."""
    global _tokenizer
    if _tokenizer is not None:
        return _tokenizer
    with _lock:
        if _tokenizer is not None:
            return _tokenizer
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an installed pkg_resources warns on import
            import jieba
        # jieba logs each load to stderr at DEBUG level through its own handler.
        logging.getLogger("jieba").setLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        # Loaded by hand: jieba's own initialize reads and writes a cache in the
        # temporary folder, and logs.
        tokenizer.FREQ, tokenizer.total = tokenizer.gen_pfdict(tokenizer.get_dict_file())
        tokenizer.initialized = True
        _tokenizer = tokenizer
        return tokenizer


def _cut(text: str) -> list[str]:
    """Words of normalised text: jieba for runs holding CJK, every other run whole."""
    out: list[str] = []
    for run in _RUN.findall(text):
        if not keyword.has_cjk(run):
            out.append(run)
            continue
        # Search mode: a long word also yields the dictionary words inside it (系统日志:
        # 系统, 日志, 系统日志), on both sides, so a question's shorter word finds it.
        # Without the HMM guesser only dictionary words come out, the same way in a
        # passage and in a question (on the dev questions it found none more).
        for piece in _load().cut_for_search(run, HMM=False):
            out.extend(_RUN.findall(piece))
    return out


def words_text(normalized: str) -> str:
    """What the words index stores for a chunk's normalised text (``search_text``)."""
    return " ".join(_cut(normalized))


def query_words(query: str) -> list[str]:
    """Words of a query for the words index: segmented as the chunks are, without stop
    words and single CJK characters (particles, mostly), each once, at most
    ``keyword.MAX_TERMS``."""
    terms: list[str] = []
    for word in _cut(keyword.normalize(query[: keyword.MAX_QUERY_CHARS])):
        if word in STOP_WORDS or (len(word) == 1 and keyword.has_cjk(word)):
            continue
        if word not in terms:
            terms.append(word)
    return terms[: keyword.MAX_TERMS]


def load() -> None:
    """Load jieba's dictionary now (the window does, in the background, when a
    collection with Chinese text is attached, so the first question does not wait)."""
    _load()


def loaded() -> bool:
    """Whether jieba's dictionary is loaded in this process (tests, diagnostics)."""
    return _tokenizer is not None
