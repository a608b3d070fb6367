"""The refusal is Glassbox's own sentence in the question's language, not model text;
and the prompt styles measured by `glassbox eval answers`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from desktop_app.core.engine.fake import FakeEngine
from desktop_app.core.engine.protocol import (
    DoneEvent,
    EngineConfig,
    Event,
    GenerateRequest,
    TokenEvent,
)
from desktop_app.core.errors import GlassboxError
from desktop_app.core.kb.answer import (
    NOT_FOUND,
    REFUSALS,
    TRIM_PASSAGES,
    answer,
    build_prompt,
    is_refusal,
    question_names,
    refusal_for,
    trim_passage,
    unknown_names,
)
from desktop_app.core.kb.db import StoredChunk
from desktop_app.core.kb.retrieve import Hit

ZH_REFUSAL = "文档中没有找到答案。"


def _hit(n: int, text: str) -> Hit:
    chunk = StoredChunk(f"c{n}", 1, f"/d/{n}.html", "html", 0, text, None, None, 0, len(text))
    return Hit(n, chunk, 0.5, None, 0.1, n, None)


class _Scripted:
    """Replies ``reply`` in two pieces (the fake engine's vocabulary is ASCII only)."""

    def __init__(self, reply: str) -> None:
        self.reply = reply

    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        half = len(self.reply) // 2
        for i, piece in enumerate((self.reply[:half], self.reply[half:])):
            yield TokenEvent(i, i, piece, 1.0, ())
        yield DoneEvent("stop", 10, 2, 0.1, 10.0, 0)


def _engine(reply: str) -> FakeEngine | _Scripted:
    if not reply.isascii():
        return _Scripted(reply)
    engine = FakeEngine(reply)
    engine.load(EngineConfig(model_path="fake"))
    return engine


@pytest.mark.parametrize(
    "reply",
    [
        NOT_FOUND,
        f'"{NOT_FOUND}"',
        "**I could not find the answer in the documents.**",
        "Answer: I couldn't find the answer in the documents [1].",
        "Sorry, I could not find the answer in the documents.",
        ZH_REFUSAL,
        "我在文档中没有找到相关的答案。",
    ],
)
def test_a_chinese_question_refused_in_any_wording_gets_the_chinese_sentence(reply: str) -> None:
    result = answer(_engine(reply), "怎样安装集群软件？", [_hit(1, "apt")], chat_template=False)
    assert result.text == ZH_REFUSAL == REFUSALS["zh"]
    assert not result.found
    assert not any(c.cited for c in result.citations)


def test_an_english_question_gets_the_english_sentence() -> None:
    result = answer(_engine(ZH_REFUSAL), "How do I install a cluster?", [_hit(1, "apt")])
    assert result.text == NOT_FOUND and not result.found


def test_nothing_retrieved_is_refused_in_the_questions_language_without_the_model() -> None:
    class NoEngine:
        def generate(self, request: GenerateRequest) -> Iterator[Event]:
            raise AssertionError("not asked")

    assert answer(NoEngine(), "怎样安装 Kubernetes？", []).text == ZH_REFUSAL
    assert answer(NoEngine(), "How?", []).text == NOT_FOUND
    assert refusal_for("12345") == NOT_FOUND  # no letters: English


def test_an_answer_that_mentions_not_finding_something_is_not_a_refusal() -> None:
    long_answer = (
        "Use the usrquota option in /etc/fstab [1]. If quotacheck says it could not find "
        "the answer file, run it again with -c."
    )
    assert not is_refusal(long_answer)
    assert not is_refusal("在 /etc/fstab 中加上 usrquota 选项 [1]。")
    assert not is_refusal("")
    result = answer(_engine(long_answer), "How do I set quotas?", [_hit(1, "usrquota")])
    # (The one passage holds little of it: the answer is shown under the warning.)
    assert result.found and result.body == long_answer and result.citations[0].cited


def test_with_outside_knowledge_allowed_the_models_text_stays() -> None:
    reply = f"{NOT_FOUND} From general knowledge: use kubeadm."
    result = answer(
        _engine(reply), "How do I install Kubernetes?", [_hit(1, "x")], only_from_documents=False
    )
    assert result.text == reply


def test_prompt_styles() -> None:
    hits = [_hit(n, f"passage {n}") for n in range(1, TRIM_PASSAGES + 3)]
    plain = build_prompt("Which option?", hits, style="plain")
    assert plain.sources == len(hits) and "Question: Which option?" in plain.messages[1].content
    sandwich = build_prompt("Which option?", hits, style="sandwich").messages[1].content
    assert sandwich.startswith("Question: Which option?") and sandwich.count("Which option?") == 2
    quote = build_prompt("q", hits, style="quote").messages[0].content
    assert "word for word" in quote and "word for word" not in plain.messages[0].content
    assert "Example 1." in build_prompt("q", hits, style="example+quote").messages[0].content
    trimmed = build_prompt("q", hits, style="trim")
    assert trimmed.sources == TRIM_PASSAGES and f"BEGIN [{TRIM_PASSAGES + 1}]" not in (
        trimmed.messages[1].content
    )
    with pytest.raises(GlassboxError, match="Unknown prompt style"):
        build_prompt("q", hits, style="quote+shout")


def test_a_trimmed_answer_lists_only_the_passages_given() -> None:
    hits = [_hit(n, f"passage {n}") for n in range(1, TRIM_PASSAGES + 3)]
    result = answer(_engine("passage [1]"), "q", hits, style="trim")
    assert [c.n for c in result.citations] == list(range(1, TRIM_PASSAGES + 1))


def test_trimming_keeps_the_sentences_that_share_the_questions_terms() -> None:
    text = (
        "Debian has many packages. Quotas limit disk use. "
        "Add usrquota to /etc/fstab to turn user quotas on. The weather is fine."
    )
    kept = trim_passage(text, "Which /etc/fstab option turns user quotas on?", limit=80)
    assert "usrquota" in kept and "weather" not in kept and "packages" not in kept
    zh = "Debian 有很多软件包。要启用用户配额，在 /etc/fstab 中加上 usrquota 选项。天气很好。"
    kept = trim_passage(zh, "怎样启用用户配额？", limit=40)
    assert "usrquota" in kept and "天气" not in kept
    assert trim_passage("nothing shared here", "配额", limit=7) == "nothing"


def test_a_short_passage_is_given_whole_even_where_it_shares_no_word() -> None:
    # The command line is the answer and shares no word with the question.
    text = (
        "如下是用随机数据重写的方式来擦除所有数据的。\n# shred -v -n 1 /dev/sda\n"
        "完成后硬盘上没有可读的数据。"
    )
    question = "怎样把整块硬盘的数据彻底擦掉？"
    assert trim_passage(text, question) == text
    assert "shred" not in trim_passage(text, question, whole=0)  # the trim alone cuts it
    longer = text + "其他内容。" * 80
    assert len(trim_passage(longer, question)) < len(longer)


def test_the_cite_style_sends_a_grammar_allowing_the_refusal_or_a_given_source_first() -> None:
    hits = [_hit(n, f"passage {n}") for n in range(1, 4)]
    cite = build_prompt("q", hits, style="cite")
    assert cite.grammar is not None and build_prompt("q", hits, style="plain").grammar is None
    assert '"[" ("1" | "2" | "3") "] "' in cite.grammar and NOT_FOUND in cite.grammar
    assert "Begin the answer with the number" in cite.messages[0].content
    engine = _engine("[2] passage")
    answer(engine, "q", hits, style="cite")
    assert isinstance(engine, FakeEngine) and engine.requests[-1].grammar == cite.grammar


class _NoEngine:
    def generate(self, request: GenerateRequest) -> Iterator[Event]:
        raise AssertionError("not asked")


def test_the_names_of_a_question_are_words_with_capitals_and_small_letters() -> None:
    assert question_names("How do I set up a Kubernetes cluster on Debian with kubeadm?") == [
        "Kubernetes",
        "Debian",
    ]
    # An English sentence's first word is no name; acronyms and commands are not either.
    assert question_names("Which LVM command grows a volume? Debian has lvextend.") == []
    assert question_names("WordPress or MongoDB? What about TensorFlow") == [
        "WordPress",
        "MongoDB",
        "TensorFlow",
    ]
    # A compound is its parts: the documents say "Debian", not always "Debian-based".
    assert question_names("How do I create a Debian-based LXC container?") == ["Debian"]
    # In Chinese every Latin word is inside a sentence.
    assert question_names("Jenkins 的流水线任务怎么配置？用 NIC 和 apt-get") == ["Jenkins"]
    # An acronym's plural is an acronym: passages say "ACL" (a held question about
    # rsync's -aHAX was refused for "ACLs").
    assert question_names("Which rsync options keep hard links, ACLs and VMs' GPUs?") == []
    assert unknown_names("Can rsync keep ACLs?", ["rsync -aHAX keeps the ACL"]) == []


def test_a_question_naming_what_no_passage_mentions_is_refused_without_the_model() -> None:
    hits = [_hit(1, "Install packages with apt-get."), _hit(2, "Quotas and debian hosts.")]
    assert unknown_names(
        "How do I install Kubernetes on Debian?", [h.chunk.text for h in hits]
    ) == ["Kubernetes"]
    result = answer(_NoEngine(), "怎样在 Debian 上安装 Kubernetes？", hits)
    assert result.text == ZH_REFUSAL and not result.found and result.unknown == ("Kubernetes",)
    assert [c.n for c in result.citations] == [1, 2] and not any(c.cited for c in result.citations)
    assert result.as_dict()["unknown"] == ["Kubernetes"]
    # The window sends this prompt: no source, and a grammar allowing only the refusal.
    prompt = build_prompt("How do I install Kubernetes?", hits)
    assert prompt.unknown == ("Kubernetes",) and prompt.sources == 0
    assert prompt.grammar == f'root ::= "{NOT_FOUND}"\n'
    assert "BEGIN [1]" not in prompt.messages[1].content


def test_a_name_the_passages_mention_in_any_case_lets_the_model_answer() -> None:
    hits = [_hit(1, "Run kubeadm init to start a KUBERNETES control plane.")]
    result = answer(_engine("[1] Run kubeadm init."), "How do I start Kubernetes?", hits)
    assert result.found and result.unknown == () and result.citations[0].cited
    assert build_prompt("How do I start Kubernetes?", hits).sources == 1


def test_cite_with_quote_makes_the_reply_quote_its_source_after_the_number() -> None:
    from llama_cpp import LlamaGrammar

    hits = [_hit(n, f"passage {n}") for n in range(1, 3)]
    prompt = build_prompt("q", hits, style="cite+quote")
    assert prompt.grammar is not None
    assert '"] " "\\"" [^"\\x00\\n]+ "\\"" [ \\n] [^"\\x00\\n]+' in prompt.grammar
    assert NOT_FOUND in prompt.grammar
    assert 'like [2] "…"' in prompt.messages[0].content
    assert "First copy" not in prompt.messages[0].content  # one order, not two
    LlamaGrammar.from_string(prompt.grammar, verbose=False)  # llama.cpp reads it
    default = build_prompt("q", hits).grammar or ""
    assert '"] " "\\"" [^"\\x00\\n]+ "\\""' in default  # the default quotes
    assert '"] " [^\\x00]+' in (build_prompt("q", hits, style="cite").grammar or "")


def test_a_source_in_another_language_is_cited_in_the_questions_language_not_quoted() -> None:
    # An English question with Chinese passages: a sentence copied word for word was
    # Chinese, and the small model's reply with it (the Debian set's cross-004). After
    # the number of such a source the grammar allows no quotation and no Chinese.
    from llama_cpp import LlamaGrammar

    hits = [
        _hit(1, "Use mdadm --create to make an array."),
        _hit(2, "使用 mdadm 命令创建 RAID 阵列。"),
        _hit(3, "使用 mdadm --create /dev/md1 --level=1 创建镜像。"),
    ]
    prompt = build_prompt("How do I create a RAID 1 array?", hits, style="cite+quote+lang")
    assert prompt.messages[1].content.endswith(
        "Sources [2], [3] are in Chinese. If you use one of them, do not copy it: answer "
        "in English, in your own words, with its number."
    )
    grammar = prompt.grammar or ""
    assert '"[" ("1") "] " "\\""' in grammar  # the English source is quoted as before
    assert '"[" ("2" | "3") "] " [^"\\x00\\u3400-' in grammar
    LlamaGrammar.from_string(grammar, verbose=False)
    # The system prompt is the same bytes as any question's (the prefix cache).
    plain = build_prompt("How do I create a RAID 1 array?", hits[:1], style="cite+quote+lang")
    assert prompt.messages[0].content == plain.messages[0].content
    assert plain.messages[1].content.endswith("RAID 1 array?")
    assert '"\\u3400' not in (plain.grammar or "")

    # A Chinese question, an English source: the reply after [1] starts in Chinese.
    prompt = build_prompt("怎样创建 RAID 1 阵列？", hits, style="cite+quote+lang")
    assert prompt.messages[1].content.endswith(
        "Source [1] is in English. If you use it, do not copy it: answer in Chinese, in "
        "your own words, with its number."
    )
    assert '"[" ("1") "] " [\\u3400-' in (prompt.grammar or "")
    LlamaGrammar.from_string(prompt.grammar or "", verbose=False)


def test_the_opening_citation_points_at_the_passage_its_quotation_was_copied_from() -> None:
    # The small model picks the number first, then often copies another passage's
    # sentence (the Debian set's zh-004: "[3]" before a sentence of passage 2).
    hits = [
        _hit(1, "Mount points hold directory trees."),
        _hit(2, "Samba 账户还能够（通过 smbpasswd -d user）被临时禁止，并且后面再次启用。"),
        _hit(3, "将现有用户添加到 Samba 数据库中不过是运行 smbpasswd -a user 命令的事。"),
    ]
    reply = '[3] "Samba 账户还能够（通过 smbpasswd -d user）被临时禁止，" [3]'
    result = answer(_engine(reply), "Samba 账号怎么先停用？", hits)
    assert result.text.startswith('[2] "Samba 账户还能够')
    assert result.text.endswith("[3]")  # only the opening number is the quotation's
    assert [c.n for c in result.citations if c.cited] == [2, 3]
    # Spaces and punctuation aside; a sentence without quotation marks too.
    loose = "[1] Samba 账户还能够 (通过 smbpasswd -d user) 被临时禁止。"
    assert answer(_engine(loose), "Samba?", hits).text.startswith("[2] Samba")
    # Left alone: the cited passage holds it, no passage does, or it is too short.
    for kept in (
        '[2] "Samba 账户还能够（通过 smbpasswd -d user）被临时禁止" [2]',
        '[1] "Samba accounts can be disabled for a while." [1]',
        '[1] "smbpasswd" [1]',
    ):
        assert answer(_engine(kept), "Samba?", hits).body == kept


def test_with_own_words_the_answer_after_the_quotation_starts_in_the_questions_language() -> None:
    from llama_cpp import LlamaGrammar

    hits = [_hit(1, "Use mdadm --create to make an array."), _hit(2, "Run mdadm.")]
    english = build_prompt("How do I make a RAID array?", hits, style="cite+quote+own").grammar
    assert english is not None
    assert '"\\"" [ \\n] ("[" [0-9] "] ")? [A-Za-z] [^"\\x00\\n]*' in english
    zh = [_hit(1, "使用 mdadm --create 创建阵列。"), _hit(2, "运行 mdadm 命令。")]
    chinese = build_prompt("怎样创建 RAID 阵列？", zh, style="cite+quote+own").grammar
    assert chinese is not None and '"\\"" [ \\n] ("[" [0-9] "] ")? [\\u3400-' in chinese
    for grammar in (english, chinese):
        LlamaGrammar.from_string(grammar, verbose=False)
    # Without it, anything after the quotation, as before.
    plain = build_prompt("How do I make a RAID array?", hits, style="cite+quote").grammar
    assert plain is not None and '"\\"" [ \\n] [^"\\x00\\n]+' in plain
