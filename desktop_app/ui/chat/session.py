"""The conversation logic behind the window: branches, replies, replay, saved as they grow.

``ChatSession`` sits between the widgets, the ``InferenceController`` and the
``ChatStore``. It turns what the user does (send, regenerate, continue, edit,
branch from an alternative token, move between branches, fork, replay) into
messages in the store and requests to the engine, and tells the window what to
show through signals. It holds no widgets, so the window tests and the UI
benchmark drive it exactly as a person would.

A streaming reply is written to the store by a ``ReplyRecorder`` on its own
thread (at least once a second), so a crash loses at most the last second and
the GUI thread never waits on the disk while tokens arrive.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot

from desktop_app.core.chat import prompting
from desktop_app.core.chat.cards import done_card, replay_request, reply_card
from desktop_app.core.chat.codecs import MessageStatus, TokenRecord
from desktop_app.core.chat.recorder import ReplyRecorder
from desktop_app.core.chat.store import ChatStore, Project, QueuedMessage, StoredMessage
from desktop_app.core.engine.protocol import (
    CONTRAST_ALPHA_MAX,
    ContrastSettings,
    DoneEvent,
    GenerateRequest,
    Message,
    Role,
    TokenEvent,
)
from desktop_app.core.errors import GlassboxError
from desktop_app.core.kb import grounding as ground
from desktop_app.core.kb.answer import (
    PASSAGES,
    WHOLE_DOCUMENTS,
    build_prompt,
    finish_answer,
    is_refusal,
    refusal_for,
)
from desktop_app.core.kb.check import SentenceCheck
from desktop_app.core.kb.db import Filters
from desktop_app.core.kb.grounding import MAX_PHRASINGS, GroundingOptions
from desktop_app.core.kb.language import target_language
from desktop_app.core.kb.retrieve import Hit
from desktop_app.core.kb.translate import CrossLanguage, engine_translator, merge_counts
from desktop_app.core.kb.whole import MAX_DOCUMENTS, Fit
from desktop_app.core.sampling import SamplingParams
from desktop_app.ui.chat import tool_steps
from desktop_app.ui.chat.thinking_block import (
    ReplyThinking,
    meta_figures,
    opened_in_meta,
    prompt_opens_thinking,
)
from desktop_app.ui.chat.view import MessageView, SentenceMark, sentence_marks
from desktop_app.ui.common.errors import error_text
from desktop_app.workers.engine.inference import InferenceController
from desktop_app.workers.engine.tool_runner import ToolRunner
from desktop_app.workers.jobs import JobHandle
from desktop_app.workers.jobs_qt import while_alive

log = logging.getLogger(__name__)

#: Token id of text that no model produced (typed by the user, or a fixed phrase).
TYPED_TOKEN_ID = -1
_TITLE_CHARS = 48


def typed_token(index: int, text: str) -> TokenEvent:
    """A pseudo-token for text the user wrote into a reply (no distribution behind it)."""
    return TokenEvent(index, TYPED_TOKEN_ID, text, 1.0, ())


#: The CAD weight the Conversation panel offers first.
DEFAULT_CAD_ALPHA = 0.5


@dataclass
class ChatOptions:
    """How prompts are built for the current chat (the chat options panel edits it).

    With ``collections`` attached, each question is first searched in them and the
    reply is grounded in the passages found, cited by number.
    """

    reasoning: str = prompting.REASONING_OFF
    examples: list[tuple[str, str]] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)
    top_k: int = 5
    min_similarity: float | None = None
    only_from_documents: bool = True
    multi_query: int = 0  # alternative phrasings the model writes (0: off)
    rerank: bool = False  # the loaded model judges each passage before the reply
    translate: bool = True  # a question in another language is also searched in the documents'
    expand: bool = False  # the model lists the terms an answer would name; they are searched too
    file_types: list[str] = field(default_factory=list)  # only these (pdf, md…)
    folder: str = ""  # only files under this folder
    modified_after: float | None = None  # only files modified since (Unix seconds)
    #: Give the model the whole attached documents instead of passages, when they fit.
    whole_documents: bool = False
    #: Context-aware decoding's weight α for grounded replies (None: off).
    cad: float | None = None
    #: A reasoning model's own thinking on or off, through its chat template's
    #: switch (None: the template's default).
    thinking: bool | None = None
    #: Tools the model may call in this chat: built-in tools by name (``BUILTIN_NAMES``;
    #: "knowledge" searches the attached collections instead of searching first, "files"
    #: reads ``tool_files``), and the configured MCP servers by name.
    tools: list[str] = field(default_factory=list)
    tool_servers: list[str] = field(default_factory=list)
    tool_files: list[str] = field(default_factory=list)  # files dropped into the chat
    tools_ask_builtin: bool = False  # ask before built-in read-only tools too
    tools_always: list[str] = field(default_factory=list)  # "Always for this chat"

    @property
    def uses_tools(self) -> bool:
        """Whether any tool is on (a reply then runs the tool loop)."""
        return bool(self.tools or self.tool_servers)

    @property
    def knowledge_tool(self) -> bool:
        """Whether the attached collections are searched by the model, as a tool."""
        return "knowledge" in self.tools and bool(self.collections)

    def filters(self) -> Filters | None:
        """The metadata filters for searches, or None when nothing is restricted."""
        f = Filters(
            types=tuple(t.lower().lstrip(".") for t in self.file_types if t.strip()),
            folder=self.folder.strip() or None,
            after=self.modified_after,
        )
        return f if f.active else None

    def grounding(self) -> GroundingOptions:
        """How a question is grounded: the same steps as ``glassbox ask``."""
        return GroundingOptions(
            collections=tuple(self.collections),
            k=self.top_k,
            min_similarity=self.min_similarity,
            filters=self.filters(),
            multi_query=self.multi_query,
            rerank=self.rerank,
            translate=self.translate,
            expand=self.expand,
        )

    def to_dict(self) -> dict[str, Any]:
        """What is saved with the chat."""
        return {
            "reasoning": self.reasoning,
            "examples": [list(e) for e in self.examples],
            "collections": list(self.collections),
            "top_k": self.top_k,
            "min_similarity": self.min_similarity,
            "only_from_documents": self.only_from_documents,
            "multi_query": self.multi_query,
            "rerank": self.rerank,
            "translate": self.translate,
            "expand": self.expand,
            "file_types": list(self.file_types),
            "folder": self.folder,
            "modified_after": self.modified_after,
            "whole_documents": self.whole_documents,
            "cad": self.cad,
            "thinking": self.thinking,
            "tools": list(self.tools),
            "tool_servers": list(self.tool_servers),
            "tool_files": list(self.tool_files),
            "tools_ask_builtin": self.tools_ask_builtin,
            "tools_always": list(self.tools_always),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChatOptions:
        """Options saved with a chat; values that do not fit are left at their defaults."""
        out = cls()
        reasoning = data.get("reasoning")
        if reasoning in prompting.REASONING_MODES:
            out.reasoning = str(reasoning)
        examples = data.get("examples")
        if isinstance(examples, list):
            out.examples = [
                (str(e[0]), str(e[1])) for e in examples if isinstance(e, list) and len(e) == 2
            ]
        collections = data.get("collections")
        if isinstance(collections, list):
            out.collections = [str(c) for c in collections if isinstance(c, str)]
        top_k = data.get("top_k")
        if isinstance(top_k, int) and 1 <= top_k <= 50:
            out.top_k = top_k
        similarity = data.get("min_similarity")
        if isinstance(similarity, int | float) and 0.0 <= similarity <= 1.0:
            out.min_similarity = float(similarity)
        only = data.get("only_from_documents")
        if isinstance(only, bool):
            out.only_from_documents = only
        multi = data.get("multi_query")
        if isinstance(multi, int) and 0 <= multi <= MAX_PHRASINGS:
            out.multi_query = multi
        rerank = data.get("rerank")
        if isinstance(rerank, bool):
            out.rerank = rerank
        translate = data.get("translate")
        if isinstance(translate, bool):
            out.translate = translate
        expand = data.get("expand")
        if isinstance(expand, bool):
            out.expand = expand
        types = data.get("file_types")
        if isinstance(types, list):
            out.file_types = [str(t) for t in types if isinstance(t, str)]
        folder = data.get("folder")
        if isinstance(folder, str):
            out.folder = folder
        whole = data.get("whole_documents")
        if isinstance(whole, bool):
            out.whole_documents = whole
        cad = data.get("cad")
        if (
            isinstance(cad, int | float)
            and not isinstance(cad, bool)
            and 0 <= cad <= CONTRAST_ALPHA_MAX
        ):
            out.cad = float(cad)
        after = data.get("modified_after")
        if isinstance(after, int | float) and not isinstance(after, bool):
            out.modified_after = float(after)
        thinking = data.get("thinking")
        if isinstance(thinking, bool):
            out.thinking = thinking
        for key in ("tools", "tool_servers", "tool_files", "tools_always"):
            names = data.get(key)
            if isinstance(names, list):
                setattr(out, key, [str(n) for n in names if isinstance(n, str)])
        ask = data.get("tools_ask_builtin")
        if isinstance(ask, bool):
            out.tools_ask_builtin = ask
        return out


@dataclass(eq=False)
class _Grounding:
    """A question being prepared for a grounded reply: the steps of ``core.kb.grounding``
    (rewrite on the engine, search on the knowledge thread, rerank on the engine)."""

    parent_id: int
    question: str
    options: GroundingOptions
    stage: str = "search"
    task: JobHandle | None = None  # the rewrite or rerank task running for it
    phrasings: list[str] = field(default_factory=list)
    terms: str = ""  # with expand: what an answer would name, ranking the passages
    pool: list[Hit] = field(default_factory=list)  # what the search found


@dataclass(eq=False)
class _Reply:
    recorder: ReplyRecorder
    parent_id: int | None
    request: GenerateRequest
    prefix: list[TokenRecord]
    tokens: list[TokenEvent] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    two_stage: bool = False
    stage: int = 1
    stage_start: int = 0  # token count when the running stage began
    replay_of: int | None = None
    meta_update: dict[str, Any] = field(default_factory=dict)
    branch: tuple[int, int] = (1, 1)  # its "‹ i/n ›" position, known when it began
    chat_id: int = 0
    # A reply grounded in documents only: Glassbox's refusal in the question's
    # language, shown instead of the model's when the model refuses ("": not grounded).
    refusal: str = ""
    # A grounded reply: the question, the sources given, the fence delimiter and the
    # mode, for the answer's finishing step (``finish_answer``, as ask and the API).
    question: str = ""
    sources: list[Hit] = field(default_factory=list)
    delimiter: str = ""
    mode: str = PASSAGES
    # A reply with tools (``tool_steps``): its calls as saved, the passages its
    # knowledge searches found, and the final answer that becomes its content.
    tools: bool = False
    tool_steps: list[dict[str, Any]] = field(default_factory=list)
    tool_sources: list[Any] = field(default_factory=list)
    tool_decision: int = -1  # the token where the running call was decided
    content: str | None = None
    thinking: ReplyThinking | None = None  # its native reasoning, timed for its card


class ChatSession(QObject):
    """One open conversation: what it shows and what it sends."""

    sig_show = Signal(list)
    """Show this branch (a list of ``MessageView``), replacing the transcript."""

    sig_append = Signal(object)
    """Add one finished ``MessageView`` under the transcript."""

    sig_reply_begun = Signal(object)
    """A reply starts streaming (a ``MessageView`` with status "streaming")."""

    sig_reply_tokens = Signal(list)
    """Tokens of the streaming reply."""

    sig_reply_ended = Signal(object)
    """The streaming reply ended: its final ``MessageView``."""

    sig_reply_finished = Signal(object)
    """A reply is over, all its stages done and its record closed: the engine's last
    ``DoneEvent`` (its figures for the status bar). Sent after ``sig_busy(False)``;
    a two-stage reply's first ``DoneEvent`` is not sent."""

    sig_chat_changed = Signal()
    """The list of chats or the current chat's title changed (the sidebar reloads)."""

    sig_notice = Signal(str, bool)
    """Something to tell the user in the status bar; True when it is an error."""

    sig_busy = Signal(bool)
    """True while a reply is streaming."""

    sig_branch_deleted = Signal(int, int)
    """A message (id) and the replies under it were deleted: (message id, how many
    messages). Until :meth:`undo_delete` or :meth:`finish_delete` they are only hidden."""

    sig_context = Signal(int, int)
    """Context used by the last reply (prompt + reply tokens) and the context size."""

    sig_queue = Signal(list)
    """The messages queued in the open chat changed: the whole queue, ``QueuedMessage``s,
    first to be sent first."""

    sig_tool_approval = Signal(object)
    """A tool call of the streaming reply waits for the user: an ``ApprovalRequest``
    (answer with :meth:`decide_tool`)."""

    sig_tool_step = Signal(object)
    """A tool call of the streaming reply has its outcome (``ToolStep``): no call waits."""

    def __init__(
        self,
        store: ChatStore,
        controller: InferenceController,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._controller = controller
        self._chat_id: int | None = None
        self._path: list[StoredMessage] = []
        self._reply: _Reply | None = None
        self._system_prompt = ""
        self._project_id: int | None = None  # the project a new chat is saved in
        self.options = ChatOptions()
        self._params = controller.settings.sampling_params()
        self._fingerprints: dict[str, str] = {}
        self._knowledge: Any = None
        self._pending_search: _Grounding | None = None
        self._sources: list[Any] = []  # hits found for the reply about to start
        self._whole = False  # the sources about to be given are whole documents
        self._delimiter = ""  # the fence delimiter of the grounded prompt just built
        self._mode = PASSAGES  # and what it gives: passages or whole documents
        self._grounding: list[Any] = []  # hits the reply being started is grounded in
        self._carry_citations: list[Any] = []  # a branch keeps its original's sources
        self._grammar: str | None = None  # the grounded prompt's reply format, if any
        self._contrast: ContrastSettings | None = None  # CAD for the next grounded reply
        self._saving: list[ReplyRecorder] = []
        self._save_timer = QTimer(self)
        self._save_timer.setInterval(200)
        self._save_timer.timeout.connect(self._on_save_timer_timeout)
        controller.sig_tokens.connect(self._on_controller_tokens)
        controller.sig_done.connect(self._on_controller_done)
        controller.sig_error.connect(self._on_controller_error)
        fingerprint = getattr(controller, "sig_model_fingerprint", None)
        if fingerprint is not None:
            fingerprint.connect(self._on_controller_model_fingerprint)
        # Replies with tools (see ``ui.chat.tool_steps``).
        self._tools = ToolRunner(controller, parent=self)
        tool_steps.connect(self, self._tools)

    # ----------------------------------------------------------------- state

    @property
    def store(self) -> ChatStore:
        """The store the conversations live in."""
        return self._store

    @property
    def chat_id(self) -> int | None:
        """The open chat, or None for a new chat not saved yet."""
        return self._chat_id

    @property
    def path(self) -> list[StoredMessage]:
        """The branch shown, first message first (a copy)."""
        return list(self._path)

    @property
    def params(self) -> SamplingParams:
        """Sampling values for the next reply."""
        return self._params

    def set_params(self, params: SamplingParams) -> None:
        """Use ``params`` for the next reply (the sampling panel calls this)."""
        self._params = params

    @property
    def system_prompt(self) -> str:
        """The system prompt of the open chat."""
        return self._system_prompt

    def set_system_prompt(self, text: str) -> None:
        """Change the system prompt; saved with the chat once it exists."""
        self._system_prompt = text
        if self._chat_id is not None:
            self._guard(lambda: self._store.set_system_prompt(self._chat_id or 0, text))

    def set_knowledge(self, knowledge: Any) -> None:
        """Ground replies in documents found by ``knowledge`` (a ``KnowledgeController``)."""
        self._knowledge = knowledge
        self._tools.knowledge = knowledge

    def set_options(self, options: ChatOptions) -> None:
        """Use ``options`` from the next reply on, saved with the open chat (the chat
        options panel sends its whole record on every edit)."""
        self.options = options
        self.save_options()

    def save_options(self) -> None:
        """Save the options with the open chat (once it exists)."""
        chat_id = self._chat_id
        if chat_id is not None:
            self._guard(lambda: self._store.set_chat_options(chat_id, self.options.to_dict()))

    @property
    def busy(self) -> bool:
        """Whether a reply is being prepared (a document search) or is streaming."""
        return self._reply is not None or self._pending_search is not None

    # ----------------------------------------------------------------- chats

    def new_chat(self, project: Project | None = None) -> None:
        """Start an empty chat; it is saved when the first message is sent.

        In a ``project`` it takes the project's system prompt and knowledge
        collections (the window applies its sampling values) and is saved in it.
        """
        self.stop()
        self._tools.close_servers()
        self._chat_id = None
        self._path = []
        self._project_id = project.id if project is not None else None
        tool_steps.new_chat_tools(self.options, self._controller.settings)
        if project is not None:
            self._system_prompt = project.system_prompt
            self.options.collections = list(project.collections)
        self.sig_show.emit([])
        self.sig_queue.emit([])
        self.sig_chat_changed.emit()

    def open_chat(self, chat_id: int, message_id: int | None = None) -> None:
        """Show a saved chat, on its last viewed branch or on the branch of ``message_id``."""
        self.stop()
        self.wait_saved()
        if chat_id != self._chat_id:
            self._tools.close_servers()
        try:
            summary = self._store.chat(chat_id)
            if message_id is not None:
                leaf = self._store.latest_leaf(message_id)
                self._store.set_current_leaf(chat_id, leaf)
            self._path = self._store.current_path(chat_id)
        except GlassboxError as exc:
            self.sig_notice.emit(error_text(exc.kind, str(exc)), True)
            return
        self._chat_id = chat_id
        self._system_prompt = summary.system_prompt
        self.options = ChatOptions.from_dict(summary.options)
        self._show_path()
        self._emit_queue()
        if summary.note:
            self.sig_notice.emit(
                self.tr("This chat could not be read completely: {detail}").format(
                    detail=summary.note
                ),
                True,
            )
        self.sig_chat_changed.emit()

    def fork(self, message_id: int) -> None:
        """Copy the branch up to ``message_id`` into a new chat and open it."""
        if self._chat_id is None:
            return
        self.wait_saved()
        new_id = self._guard(lambda: self._store.fork(self._chat_id or 0, message_id))
        if new_id is not None:
            self.open_chat(new_id)
            self.sig_notice.emit(self.tr("Forked into a new chat."), False)

    # ----------------------------------------------------------------- queue

    def queued_messages(self) -> list[QueuedMessage]:
        """Messages of the open chat waiting for the running reply, first first."""
        if self._chat_id is None:
            return []
        chat_id = self._chat_id
        found = self._guard(lambda: self._store.queued_messages(chat_id))
        return list(found) if found is not None else []

    def queue(self, text: str) -> bool:
        """Queue a message while a reply streams; it is sent when the replies before it end."""
        text = text.strip()
        chat_id = self._chat_id
        if not text or chat_id is None:
            return False
        if self._guard(lambda: self._store.queue_message(chat_id, text)) is None:
            return False
        self._emit_queue()
        return True

    def edit_queued(self, queued_id: int, text: str) -> None:
        """Change a queued message's text (an empty text removes it)."""
        text = text.strip()
        if not text:
            self.remove_queued(queued_id)
            return
        self._guard(lambda: self._store.update_queued_message(queued_id, text))
        self._emit_queue()

    def remove_queued(self, queued_id: int) -> None:
        """Take a message off the queue without sending it."""
        self._guard(lambda: self._store.remove_queued_message(queued_id))
        self._emit_queue()

    def clear_queue(self) -> None:
        """Drop every message queued in the open chat."""
        chat_id = self._chat_id
        if chat_id is not None:
            self._guard(lambda: self._store.clear_queue(chat_id))
        self._emit_queue()

    def send_queued(self, queued_id: int) -> bool:
        """Send a queued message now (nothing runs); False when it cannot be sent now."""
        if self.busy:
            return False
        found = [q for q in self.queued_messages() if q.id == queued_id]
        if not found:
            return False
        if not self.send(found[0].content):
            return False
        self.remove_queued(queued_id)
        return True

    def _emit_queue(self) -> None:
        self.sig_queue.emit(self.queued_messages())

    def _send_next_queued(self, chat_id: int) -> None:
        # After a reply of ``chat_id`` ended: the next queued message goes, unless
        # another chat was opened meanwhile (its queue waits there for a later reply).
        if chat_id != self._chat_id or self.busy or self._controller.model_loaded is None:
            return
        queued = self.queued_messages()
        if queued:
            self.send_queued(queued[0].id)

    # ----------------------------------------------------------------- sending

    def send(self, text: str) -> bool:
        """Send a user message and stream the reply; False when it cannot be sent now."""
        text = text.strip()
        if not text or self.busy or self._controller.model_loaded is None:
            return False
        if self._chat_id is None:
            title = " ".join(text.split())[:_TITLE_CHARS] or self.tr("New chat")
            project_id = self._project_id
            chat_id = self._guard(
                lambda: self._store.create_chat(title, self._system_prompt, project_id)
            )
            if chat_id is None:
                return False
            self._chat_id = chat_id
            self.save_options()  # a new chat starts with the options set before it
            self.sig_chat_changed.emit()
        parent = self._path[-1].id if self._path else None
        user = self._add(parent, "user", text)
        if user is None:
            return False
        self._path.append(user)
        self.sig_append.emit(self._view(user))
        if self._grounded():
            self._search_then_reply(user.id, text)
        else:
            self._start_reply(user.id, [])
        self.sig_chat_changed.emit()
        return True

    def _search_then_reply(self, parent_id: int, question: str) -> None:
        """Find passages for ``question``; the reply starts when they are back.

        The steps of ``core.kb.grounding``, the ones ``glassbox ask`` runs: with
        multi-query on, the loaded model first writes other phrasings, and with
        ``expand`` lists the terms an answer would name; the question and its
        phrasings are searched in one fusion, ranked again by those terms; with rerank on, the
        model then judges each passage of a larger pool and the best ``top_k`` are kept.
        """
        grounding = _Grounding(parent_id, question, self.options.grounding())
        self._pending_search = grounding
        self.sig_busy.emit(True)
        loaded = self._controller.model_loaded
        fetch = getattr(self._knowledge, "whole_documents", None)
        if self.options.whole_documents and fetch is not None and loaded is not None:
            # The whole documents instead of passages, when they fit the context.
            grounding.stage = "whole"
            fetch(
                question,
                grounding.options,
                loaded.n_ctx,
                self._params.max_tokens or 512,
                on_done=while_alive(self, partial(self._on_whole_documents, grounding)),
                on_failed=while_alive(self, partial(self._on_knowledge_search_failed, grounding)),
            )
            names = ", ".join(grounding.options.collections)
            self.sig_notice.emit(
                self.tr("Reading the whole documents of {names}…").format(names=names), False
            )
            return
        counts = self._collection_languages(grounding.options)
        across = grounding.options.translate and target_language(question, counts) is not None
        if across and loaded is not None:
            # The model writes the question in the documents' language (and its other
            # phrasings, with multi-query on); the step never fails the search.
            options, template = grounding.options, loaded.has_chat_template

            def rewrite_across(engine: Any, _progress: Any) -> tuple[list[str], CrossLanguage, str]:
                others = ground.phrasings(engine, question, options, chat_template=template)
                terms = ground.expand_terms(engine, question, options, chat_template=template)
                translator = engine_translator(engine, chat_template=template)
                return others, ground.translation(question, options, counts, translator), terms

            grounding.stage = "rewrite"
            grounding.task = self._controller.run_task(
                rewrite_across,
                label=self.tr("Writing the question in the documents' language"),
                on_done=while_alive(self, partial(self._on_translated, grounding)),
                on_failed=while_alive(self, partial(self._on_step_failed, grounding)),
            )
            self.sig_notice.emit(self.tr("Writing the question in the documents' language…"), False)
            return
        rewrites = grounding.options.multi_query > 0
        if (rewrites or grounding.options.expand) and loaded is not None:
            options, template = grounding.options, loaded.has_chat_template
            grounding.stage = "rewrite"
            grounding.task = self._controller.run_task(
                lambda engine, _progress: (
                    ground.phrasings(engine, question, options, chat_template=template),
                    ground.expand_terms(engine, question, options, chat_template=template),
                ),
                label=self.tr("Rewriting the question")
                if rewrites
                else self.tr("Listing the terms an answer would name"),
                on_done=while_alive(self, partial(self._on_rewritten, grounding)),
                on_failed=while_alive(self, partial(self._on_step_failed, grounding)),
            )
            self.sig_notice.emit(
                self.tr("Rewriting the question into other phrasings…")
                if rewrites
                else self.tr("Listing the commands, files and terms an answer would name…"),
                False,
            )
            return
        self._grounding_search(grounding)

    def _on_whole_documents(self, grounding: _Grounding, result: tuple[list[Hit], Fit]) -> None:
        if grounding is not self._pending_search:
            return
        self._pending_search = None
        hits, fit = result
        if not fit.fits:
            if not fit.documents:
                why = self.tr("The attached collections have no indexed document.")
            elif fit.documents > MAX_DOCUMENTS:
                why = self.tr(
                    "{n} documents are in scope; whole-document mode gives at most {most}. "
                    "Narrow the scope with the filters, or untick “Use whole documents”."
                ).format(n=fit.documents, most=MAX_DOCUMENTS)
            else:
                why = self.tr(
                    "The {n} document(s) take about {tokens} tokens; the model's context of "
                    "{n_ctx} leaves {budget} for them with room for the answer. Untick “Use "
                    "whole documents”, narrow the scope, or load the model with a larger context."
                ).format(
                    n=fit.documents,
                    tokens=f"{fit.tokens:,}",
                    n_ctx=f"{fit.n_ctx:,}",
                    budget=f"{max(fit.budget, 0):,}",
                )
            self.sig_notice.emit(why, True)
            self.sig_busy.emit(False)
            return
        self._sources = hits
        self._whole = True
        self.sig_notice.emit(
            self.tr("Answering from {n} whole document(s), about {tokens} tokens.").format(
                n=len(hits), tokens=f"{fit.tokens:,}"
            ),
            False,
        )
        self._start_reply(grounding.parent_id, [])

    def _collection_languages(self, options: GroundingOptions) -> dict[str, int]:
        """Chunks per language of the attached collections, as the knowledge side last
        counted them (none known: no translation)."""
        known = getattr(self._knowledge, "collection_languages", None)
        if not options.translate or known is None:
            return {}
        return merge_counts({name: known(name) for name in options.collections})

    def _on_translated(
        self, grounding: _Grounding, result: tuple[list[str], CrossLanguage, str]
    ) -> None:
        if grounding is not self._pending_search:
            return
        others, cross, terms = result
        if cross.phrasing is None and cross.target is not None:
            self.sig_notice.emit(
                self.tr(
                    "Could not write the question in the documents' language; searching "
                    "with the question as asked."
                ),
                True,
            )
        self._on_rewritten(grounding, ([*others, *cross.alternatives], terms))

    def _grounding_search(self, grounding: _Grounding) -> None:
        grounding.stage = "search"
        self._knowledge.find_passages(
            grounding.question,
            grounding.options,
            grounding.phrasings,
            terms=grounding.terms,
            on_done=while_alive(self, partial(self._on_knowledge_search_done, grounding)),
            on_failed=while_alive(self, partial(self._on_knowledge_search_failed, grounding)),
        )
        names = ", ".join(grounding.options.collections)
        self.sig_notice.emit(self.tr("Searching {names}…").format(names=names), False)

    def _on_knowledge_search_done(self, grounding: _Grounding, hits: list[Hit]) -> None:
        if grounding is not self._pending_search:
            return  # stopped, or replaced by another question
        grounding.pool = list(hits)
        loaded = self._controller.model_loaded
        if grounding.options.rerank and hits and loaded is not None:
            question, template = grounding.question, loaded.has_chat_template
            grounding.stage = "rerank"
            grounding.task = self._controller.run_task(
                lambda engine, _progress: ground.judge(
                    engine, question, hits, chat_template=template
                ),
                label=self.tr("Judging the passages"),
                on_done=while_alive(self, partial(self._on_reranked, grounding)),
                on_failed=while_alive(self, partial(self._on_step_failed, grounding)),
            )
            self.sig_notice.emit(
                self.tr("The model is judging {n} passage(s)…").format(n=len(hits)), False
            )
            return
        self._grounded_reply(grounding, hits)

    def _grounded_reply(self, grounding: _Grounding, hits: list[Hit]) -> None:
        self._pending_search = None
        self._sources = ground.best(hits, grounding.options)
        self.sig_notice.emit(
            self.tr("Found {n} passage(s); answering from them.").format(n=len(self._sources))
            if self._sources
            else self.tr("Nothing relevant was found in the attached documents."),
            False,
        )
        self._start_reply(grounding.parent_id, [])

    def _on_rewritten(self, grounding: _Grounding, result: tuple[list[str], str]) -> None:
        if grounding is not self._pending_search:
            return
        grounding.task = None
        phrasings, grounding.terms = result
        grounding.phrasings = [q for q in phrasings if q.strip()]
        self._grounding_search(grounding)

    def _on_reranked(self, grounding: _Grounding, ranked: list[Hit]) -> None:
        if grounding is not self._pending_search:
            return
        grounding.task = None
        self._grounded_reply(grounding, list(ranked))

    def _on_step_failed(self, grounding: _Grounding, _kind: str, message: str) -> None:
        if grounding is not self._pending_search:
            return
        grounding.task = None
        # Both steps only improve the passages: without them the question still gets
        # an answer, from the plain search.
        if grounding.stage == "rewrite":
            self.sig_notice.emit(
                self.tr("Could not rewrite the question ({detail}).").format(detail=message), True
            )
            self._grounding_search(grounding)
        elif grounding.stage == "rerank":
            self.sig_notice.emit(
                self.tr("Could not judge the passages ({detail}).").format(detail=message), True
            )
            self._grounded_reply(grounding, grounding.pool)

    def _on_knowledge_search_failed(self, grounding: _Grounding, _kind: str, message: str) -> None:
        if grounding is not self._pending_search:
            return
        self._pending_search = None
        self.sig_notice.emit(
            self.tr("The document search failed: {detail}").format(detail=message), True
        )
        self.sig_busy.emit(False)

    def regenerate(self, message_id: int) -> None:
        """A new reply to the same message, as a new branch."""
        message = self._message(message_id)
        if message is None or self.busy:
            return
        parent = message.parent_id if message.role == "assistant" else message.id
        self._rebranch(parent)
        question = self._path[-1].content if self._path else ""
        if parent is not None and self._grounded():
            self._search_then_reply(parent, question)
            return
        self._start_reply(parent, [])

    def continue_reply(self, message_id: int) -> None:
        """Let the model go on from the end of a reply (a new branch that keeps its tokens)."""
        message = self._message(message_id)
        if message is None or message.role != "assistant" or self.busy:
            return
        # A reply with tools goes on from all it showed (its calls too), not its answer.
        prefix = tool_steps.whole_reply(self, message) or self._prefix_of(
            message, len(message.content)
        )
        self._rebranch(message.parent_id)
        self._start_reply(message.parent_id, prefix, same_prompt_as=message)

    def branch_from_alternative(self, message_id: int, index: int, candidate_id: int) -> None:
        """Branch a reply at token ``index`` with ``candidate_id`` forced there, and go on."""
        message = self._message(message_id)
        if message is None or self.busy:
            return
        records = self._records(message_id)
        if index >= len(records):
            return
        if tool_steps.inside_call(message.meta, index):
            self.sig_notice.emit(
                self.tr(
                    "A tool call's arguments are written under its grammar: branch at the token "
                    "where the model decided to call, or in its text."
                ),
                True,
            )
            return
        token = records[index].event
        cand = next((c for c in token.candidates if c.id == candidate_id), None)
        if cand is None:
            self.sig_notice.emit(self.tr("That alternative was not recorded for this token."), True)
            return
        forced = TokenEvent(index, cand.id, cand.text, cand.p_final, token.candidates)
        prefix = [*records[:index], TokenRecord(forced, forced=True)]
        self._rebranch(message.parent_id)
        self._start_reply(message.parent_id, prefix, same_prompt_as=message)

    def edit_message(self, message_id: int, text: str) -> None:
        """Save an edit as a new branch: a user edit gets a new reply, an assistant edit is kept."""
        message = self._message(message_id)
        if message is None or self.busy or not text.strip():
            return
        self._rebranch(message.parent_id)
        if message.role == "user":
            edited = self._add(message.parent_id, "user", text)
            if edited is None:
                return
            self._path.append(edited)
            self._show_path()
            if self._grounded():
                self._search_then_reply(edited.id, text)
            else:
                self._start_reply(edited.id, [])
            return
        meta = {k: v for k, v in message.meta.items() if k != "request"}
        new = self._add(message.parent_id, "assistant", text, meta)
        if new is None:
            return
        self._guard(lambda: self._store.update_message_content(new.id, text))
        self._path = self._guard(lambda: self._store.path_to(new.id)) or self._path
        self._show_path()

    def delete_branch(self, message_id: int) -> bool:
        """Delete a message and every reply under it, with Undo until :meth:`finish_delete`.

        Nothing is deleted while a reply is being prepared or streams (it may be
        one of them); False then, or when the message is not in the open chat.
        """
        message = self._message(message_id)
        chat_id = self._chat_id
        if message is None or self.busy or chat_id is None or message.chat_id != chat_id:
            return False
        branch = self._guard(lambda: self._store.hide_branch(message_id))
        if branch is None:
            return False
        self._path = self._guard(lambda: self._store.current_path(chat_id)) or []
        self._show_path()
        self.sig_branch_deleted.emit(message_id, len(branch.ids))
        self.sig_chat_changed.emit()
        return True

    def undo_delete(self, message_id: int) -> None:
        """Bring back a message deleted by :meth:`delete_branch`, and show it."""
        try:
            self._store.unhide_branch(message_id)
            chat_id = self._store.message(message_id).chat_id
        except GlassboxError as exc:
            self.sig_notice.emit(error_text(exc.kind, str(exc)), True)
            return
        if chat_id == self._chat_id:
            self._path = self._guard(lambda: self._store.current_path(chat_id)) or []
            self._show_path()
        self.sig_chat_changed.emit()

    def finish_delete(self, message_id: int | None = None) -> None:
        """Delete for good what :meth:`delete_branch` hid (None: everything still hidden)."""
        self._guard(lambda: self._store.delete_hidden(message_id))

    def switch_branch(self, message_id: int, delta: int) -> None:
        """Show the previous (-1) or next (+1) branch of a message."""
        if self.busy or self._chat_id is None:
            return
        siblings = self._guard(lambda: self._store.siblings(message_id)) or []
        ids = [s.id for s in siblings]
        if message_id not in ids:
            return
        k = ids.index(message_id) + delta
        if not 0 <= k < len(ids):
            return
        chat_id = self._chat_id
        leaf = self._guard(lambda: self._store.latest_leaf(ids[k]))
        if leaf is None:
            return
        self._guard(lambda: self._store.set_current_leaf(chat_id, leaf))
        self._path = self._guard(lambda: self._store.current_path(chat_id)) or []
        self._show_path()

    def replay(self, message_id: int) -> None:
        """Generate a reply again from its card (same request, same seed) as a new branch."""
        message = self._message(message_id)
        if message is None or message.role != "assistant" or self.busy:
            return
        try:
            request = replay_request(message.meta)
        except GlassboxError as exc:
            self.sig_notice.emit(error_text(exc.kind, str(exc)), True)
            return
        # The whole prompt is evaluated afresh, as the first time it was sent.
        request = dataclasses.replace(request, reuse_prefix=False)
        if request.draft.draft_model and not self._controller.draft_settings().draft_model:
            # Drafting keeps the model's distribution, so the reply is drawn from the
            # same probabilities; only the random draws may fall differently.
            request = dataclasses.replace(
                request, draft=dataclasses.replace(request.draft, draft_model=False)
            )
            self.sig_notice.emit(
                self.tr(
                    "This reply was drafted with a draft model that is not loaded now, so it "
                    "is replayed without one; above temperature 0 its tokens may differ. Load "
                    "the draft model (Model panel → Speed) to replay it exactly."
                ),
                False,
            )
        second = message.meta.get("second_stage")
        self._rebranch(message.parent_id)
        self._start_reply(
            message.parent_id,
            self._prefix_of(message, len(request.assistant_prefix)),
            request=request,
            replay_of=message.id,
            two_stage=isinstance(second, dict),
            second_stage_seed=second.get("seed") if isinstance(second, dict) else None,
        )

    def stop(self) -> None:
        """Stop the streaming reply (what arrived is kept), or the search before it."""
        if self._reply is not None:
            if self._reply.tools:
                self._tools.stop()
            else:
                self._controller.stop()
            return
        grounding = self._pending_search
        if grounding is not None:
            # Late answers to the abandoned search or task find it no longer pending.
            self._pending_search = None
            if grounding.task is not None:
                grounding.task.cancel()
            self.sig_notice.emit(self.tr("Stopped before the reply began."), False)
            self.sig_busy.emit(False)
            if self._chat_id is not None:
                QTimer.singleShot(0, self, partial(self._send_next_queued, self._chat_id))

    def message(self, message_id: int) -> StoredMessage | None:
        """A message of the open chat (for the details card)."""
        return self._message(message_id)

    def decide_tool(self, decision: str) -> None:
        """The user's answer to the waiting tool call: "once", "always" or "deny"."""
        tool_steps.decide(self, self._tools, decision)

    def attach_files(self, paths: list[str]) -> None:
        """Files dropped into the chat, for its file-reading tool."""
        known = self.options.tool_files
        known += [p for p in paths if p not in known]
        self.save_options()

    def reset_tool_options(self) -> None:
        """The tools of a new chat, from the settings (the window calls this at start)."""
        tool_steps.new_chat_tools(self.options, self._controller.settings)

    # ----------------------------------------------------------------- internals

    def _grounded(self) -> bool:
        """Whether a question is searched in the attached collections before the reply
        (not when the model searches them itself, as a tool)."""
        return (
            bool(self.options.collections)
            and self._knowledge is not None
            and not self.options.knowledge_tool
        )

    def _guard(self, action: Any) -> Any:
        """Run a store call; a storage error becomes a notice instead of an exception."""
        try:
            return action()
        except GlassboxError as exc:
            self.sig_notice.emit(error_text(exc.kind, str(exc)), True)
            return None

    def _add(
        self, parent: int | None, role: Role, text: str, meta: dict[str, Any] | None = None
    ) -> StoredMessage | None:
        chat_id = self._chat_id
        if chat_id is None:
            return None
        new_id = self._guard(
            lambda: self._store.add_message(chat_id, parent, role, text, meta=meta)
        )
        if new_id is None:
            return None
        return self._guard(lambda: self._store.message(new_id))  # type: ignore[no-any-return]

    def _message(self, message_id: int) -> StoredMessage | None:
        for m in self._path:
            if m.id == message_id:
                return m
        return self._guard(lambda: self._store.message(message_id))  # type: ignore[no-any-return]

    def _records(self, message_id: int) -> list[TokenRecord]:
        self.wait_saved()  # a reply that just ended may still be writing its last tokens
        read = self._guard(lambda: self._store.read_tokens(message_id))
        return list(read.records) if read is not None else []

    def _prefix_of(self, message: StoredMessage, length: int) -> list[TokenRecord]:
        """The token records covering the first ``length`` characters of a reply.

        Text not covered by records (a hand edit) becomes one typed pseudo-token.
        """
        prefix: list[TokenRecord] = []
        covered = 0
        if not message.edited:
            for record in self._records(message.id):
                if covered + len(record.event.text) > length:
                    break
                prefix.append(record)
                covered += len(record.event.text)
        if covered < length:
            rest = message.content[covered:length]
            prefix.append(TokenRecord(typed_token(len(prefix), rest), forced=True))
        return prefix

    def _rebranch(self, parent_id: int | None) -> None:
        """Cut the shown branch back to ``parent_id`` (the new branch grows from there)."""
        if parent_id is None:
            self._path = []
        else:
            ids = [m.id for m in self._path]
            if parent_id in ids:
                self._path = self._path[: ids.index(parent_id) + 1]
            else:
                self._path = self._guard(lambda: self._store.path_to(parent_id)) or []

    def _messages_for_path(self) -> list[Any]:
        # The shown branch ends with the message being answered.
        history = [m.as_message() for m in self._path]
        system = self._system_prompt
        sources, self._sources = self._sources, []
        if sources and history and history[-1].role == "user":
            # The question goes out with its passages fenced as quoted material.
            whole, self._whole = self._whole, False
            grounded = build_prompt(
                history[-1].content,
                sources,
                only_from_documents=self.options.only_from_documents,
                whole=whole,
            )
            self._delimiter = grounded.delimiter
            self._mode = WHOLE_DOCUMENTS if whole else PASSAGES
            system = "\n\n".join(
                part for part in (grounded.messages[0].content, system.strip()) if part
            )
            history[-1] = Message("user", grounded.messages[1].content)
            if self.options.cad is not None:
                # Context-aware decoding: the same conversation with the question
                # asked without its passages runs beside the reply.
                without = [*history[:-1], Message("user", grounded.without[1].content)]
                self._contrast = ContrastSettings(
                    alpha=self.options.cad,
                    messages=tuple(
                        prompting.build_messages(
                            without,
                            system_prompt=system,
                            examples=self.options.examples,
                            reasoning=self.options.reasoning,
                        )
                    ),
                )
            # The sources given (a trimming prompt style gives fewer), and the grammar
            # that makes the reply cite one first, as ask and the API answer; not
            # with a reasoning mode, whose reply starts with its reasoning.
            # When the sources never name what is asked about, the prompt gives none
            # and its grammar allows only the refusal, reasoning mode or not; they are
            # kept for finishing the reply as ask and the API do (the refusal in the
            # question's language).
            self._grounding = list(sources) if grounded.unknown else sources[: grounded.sources]
            if self.options.reasoning == prompting.REASONING_OFF or grounded.unknown:
                self._grammar = grounded.grammar
        return prompting.build_messages(
            history,
            system_prompt=system,
            examples=self.options.examples,
            reasoning=self.options.reasoning,
        )

    def _start_reply(
        self,
        parent_id: int | None,
        prefix: list[TokenRecord],
        *,
        request: GenerateRequest | None = None,
        replay_of: int | None = None,
        two_stage: bool | None = None,
        second_stage_seed: int | None = None,
        same_prompt_as: StoredMessage | None = None,
    ) -> None:
        chat_id = self._chat_id
        loaded = self._controller.model_loaded
        if chat_id is None or loaded is None:
            self.sig_notice.emit(
                self.tr("Load a model first (Model menu or the Model panel)."), True
            )
            self._show_path()
            return
        prefix_text = "".join(r.event.text for r in prefix)
        if request is None and same_prompt_as is not None and same_prompt_as.meta.get("request"):
            # A branch of a reply goes on from the very prompt that reply had (with
            # its document passages, if it was grounded), not a rebuilt one.
            try:
                original = replay_request(same_prompt_as.meta)
            except GlassboxError:
                original = None
            if original is not None and original.messages is not None:
                request = GenerateRequest(
                    params=self._params,
                    messages=original.messages,
                    candidates=self._controller.settings.candidates,
                    assistant_prefix=prefix_text,
                    draft=self._controller.draft_settings(),
                    thinking=original.thinking,
                )
                citations = same_prompt_as.meta.get("citations")
                if citations:
                    self._carry_citations = list(citations)
        if request is None:
            messages = tuple(self._messages_for_path())
            grammar, self._grammar = self._grammar, None
            contrast, self._contrast = self._contrast, None
            request = GenerateRequest(
                params=self._params,
                messages=messages,
                candidates=self._controller.settings.candidates,
                assistant_prefix=prefix_text,
                # A reply continued from a chosen token keeps its own start.
                grammar=None if prefix_text else grammar,
                draft=self._controller.draft_settings(),
                contrast=contrast,
                thinking=self.options.thinking,
            )
        if two_stage is None:
            two_stage = self.options.reasoning == prompting.REASONING_TWO_STAGE
        meta = reply_card(
            request,
            model_path=loaded.model_path,
            model_sha256=self._fingerprints.get(loaded.model_path, ""),
            template_sha256=str(getattr(loaded, "template_sha256", "")),
            draft_model_path=getattr(loaded, "draft_model_path", None),
        )
        if replay_of is not None:
            meta["replay_of"] = replay_of
        thinking = ReplyThinking(prompt_opens_thinking(loaded, request))
        if thinking.opened:
            meta.update(thinking.card([]))  # read back right even if the reply is cut short
        grounding, self._grounding = self._grounding, []
        carried, self._carry_citations = self._carry_citations, []
        if grounding:
            meta["citations"] = [_citation(n, hit) for n, hit in enumerate(grounding, start=1)]
            meta["grounding_mode"] = self._mode
        elif carried:
            meta["citations"] = carried
        recorder = self._guard(
            lambda: self._store.begin_reply(chat_id, parent_id, meta, tokens=prefix)
        )
        if recorder is None:
            self._show_path()
            return
        reply = _Reply(recorder, parent_id, request, prefix, two_stage=two_stage, chat_id=chat_id)
        reply.tokens = [r.event for r in prefix]
        reply.texts = [prefix_text] if prefix_text else []
        reply.stage_start = len(reply.tokens)
        reply.replay_of = replay_of
        reply.thinking = thinking
        if grounding:
            reply.question = next((m.content for m in reversed(self._path) if m.role == "user"), "")
            reply.sources = list(grounding)
            reply.delimiter, self._delimiter = self._delimiter, ""
            reply.mode = self._mode
        if grounding and self.options.only_from_documents:
            reply.refusal = refusal_for(reply.question)
        if second_stage_seed is not None:
            reply.meta_update["second_stage_seed_wanted"] = second_stage_seed
        self._reply = reply
        stored = self._guard(lambda: self._store.message(recorder.message_id))
        if stored is not None:
            self._path.append(stored)
        position = self._guard(lambda: self._store.branch_position(recorder.message_id))
        index, count = position if position else (1, 1)
        reply.branch = (index, count)
        view = MessageView(
            recorder.message_id,
            "assistant",
            prefix_text,
            tokens=tuple(reply.tokens),
            forced=frozenset(i for i, r in enumerate(prefix) if r.forced),
            status="streaming",
            branch_index=index,
            branch_count=count,
            thinking_opened=thinking.opened,
        )
        if count > 1 or prefix:
            self._show_path(streaming=view)
        else:
            self.sig_reply_begun.emit(view)
        self.sig_busy.emit(True)
        if tool_steps.start(self, self._tools, reply, same_prompt_as):
            return
        self._controller.send(request)

    def _show_path(self, streaming: MessageView | None = None) -> None:
        views = [self._view(m) for m in self._path if streaming is None or m.id != streaming.id]
        self.sig_show.emit(views)
        if streaming is not None:
            self.sig_reply_begun.emit(streaming)

    def _view(self, message: StoredMessage, with_tokens: bool = True) -> MessageView:
        tokens: tuple[TokenEvent, ...] = ()
        forced: frozenset[int] = frozenset()
        if with_tokens and message.role == "assistant" and not message.edited:
            records = self._records(message.id)
            tokens = tuple(r.event for r in records)
            forced = frozenset(i for i, r in enumerate(records) if r.forced)
        position = self._guard(lambda: self._store.branch_position(message.id))
        index, count = position if position else (1, 1)
        return MessageView(
            message.id,
            message.role,
            message.content,
            tokens=tokens,
            forced=forced,
            status=message.status,
            branch_index=index,
            branch_count=count,
            edited=message.edited,
            detail=_detail(message),
            sources=_sources(message.meta),
            marks=_marks(
                message.meta,
                "".join(t.text for t in tokens) if tokens else message.content,
                message.content,
            ),
            thinking_opened=opened_in_meta(message.meta),
            thinking_seconds=meta_figures(message.meta)[1],
            decisions=_decisions(message.meta),
        )

    # ----------------------------------------------------------------- controller

    @Slot(list)
    def _on_controller_tokens(self, tokens: list[TokenEvent]) -> None:
        reply = self._reply
        if reply is None:
            return
        base = reply.stage_start
        shifted = [dataclasses.replace(t, index=base + t.index) for t in tokens]
        reply.tokens.extend(shifted)
        reply.texts.extend(t.text for t in shifted)
        reply.recorder.append(shifted)
        if reply.thinking is not None:
            reply.thinking.on_tokens(shifted)
        self.sig_reply_tokens.emit(shifted)

    @Slot(object)
    def _on_controller_done(self, done: DoneEvent) -> None:
        reply = self._reply
        if reply is None:
            return
        if reply.stage == 1:
            reply.meta_update.update(done_card(done))
        else:
            reply.meta_update["second_stage"] = {
                "seed": done.seed,
                "phrase": prompting.THEREFORE,
                "finish_reason": done.finish_reason,
            }
            reply.meta_update["completion_tokens"] = len(reply.tokens) - len(reply.prefix)
        if reply.stage == 1 and reply.two_stage and done.finish_reason in ("eos", "stop"):
            self._second_stage(reply)
            return
        self._finish(reply, done.finish_reason, done)

    def _second_stage(self, reply: _Reply) -> None:
        """Ask "Therefore, the answer is" after the reasoning, in the same reply."""
        text = "".join(reply.texts)
        prefix = prompting.second_stage_prefix(text)
        # The transcript keeps the reasoning as generated; the marker is what the
        # prefix adds after it (after its stripped form when it ends in spaces).
        phrase = prefix[len(text) :] if prefix.startswith(text) else prefix[len(text.rstrip()) :]
        marker = typed_token(len(reply.tokens), phrase)
        reply.tokens.append(marker)
        reply.texts.append(phrase)
        reply.recorder.append([marker], forced=True)
        self.sig_reply_tokens.emit([marker])
        reply.stage = 2
        reply.stage_start = len(reply.tokens)
        seed = reply.meta_update.pop("second_stage_seed_wanted", None)
        params = reply.request.params
        params = (
            params.with_seed(seed) if seed is not None else dataclasses.replace(params, seed=None)
        )
        request = dataclasses.replace(reply.request, params=params, assistant_prefix=prefix)
        self._controller.send(request)

    def _finish(self, reply: _Reply, finish_reason: str, done: DoneEvent | None) -> None:
        self._reply = None
        status: MessageStatus = "cancelled" if finish_reason == "cancelled" else "complete"
        content = "".join(reply.texts)
        if (
            done is not None
            and reply.stage == 1
            and not reply.two_stage
            and finish_reason != "cancelled"
        ):
            # The engine's text has stop strings trimmed; the tokens may not. After a
            # stop it may also hold tokens the window dropped: keep what was shown.
            prefix_text = "".join(r.event.text for r in reply.prefix)
            content = prefix_text + done.text
        if reply.sources and status == "complete" and not reply.prefix and not reply.two_stage:
            # The answering path ask and the API take: the refusal in the question's
            # language, each sentence checked against the passage it cites.
            result = finish_answer(
                reply.question,
                reply.delimiter,
                reply.sources,
                content,
                reply.tokens,
                only_from_documents=bool(reply.refusal),
                mode=reply.mode,
            )
            content = result.body
            reply.meta_update["sentences"] = [c.as_dict() for c in result.sentences]
            reply.meta_update["unsupported_warning"] = result.warning
        elif reply.refusal and status == "complete" and is_refusal(content):
            # The same refusal as ask and the API give: a sentence in the question's
            # language, not the model's wording (often English, whatever was asked).
            content = reply.refusal
        if reply.content is not None and status == "complete":
            content = reply.content  # a reply with tools: its final answer
        if reply.thinking is not None:
            reply.meta_update.update(reply.thinking.card([t.text for t in reply.tokens]))
        stored = self._close_record(reply, status, reply.meta_update, content)
        self.sig_busy.emit(False)
        loaded = self._controller.model_loaded
        if done is not None and loaded is not None:
            self.sig_context.emit(done.prompt_tokens + done.completion_tokens, loaded.n_ctx)
        if reply.replay_of is not None and stored is not None:
            original = self._message(reply.replay_of)
            if original is not None:
                same = original.content == stored.content
                self.sig_notice.emit(
                    self.tr("Replay matches the original exactly.")
                    if same
                    else self.tr("Replay differs from the original (see the two branches)."),
                    not same,
                )
        self.sig_chat_changed.emit()
        if done is not None:
            self.sig_reply_finished.emit(done)
        # Once everyone has seen this reply end, the next queued message goes.
        QTimer.singleShot(0, self, partial(self._send_next_queued, reply.chat_id))

    def _close_record(
        self,
        reply: _Reply,
        status: MessageStatus,
        meta_update: dict[str, Any],
        content: str | None,
    ) -> StoredMessage | None:
        """Finish the reply's record without waiting for the disk; show its final state.

        The last commit (an fsync) runs on the recorder's thread; the shown message
        is built here from what was sent to it, and a failed commit is reported
        once the thread is done.
        """
        recorder = reply.recorder
        try:
            recorder.finish(status, meta_update, content, wait=False)
        except GlassboxError as exc:
            self.sig_notice.emit(error_text(exc.kind, str(exc)), True)
        self._saving.append(recorder)
        if not self._save_timer.isActive():
            self._save_timer.start()
        started = next((m for m in self._path if m.id == recorder.message_id), None)
        if started is None:
            started = self._guard(lambda: self._store.message(recorder.message_id))
        if started is None:
            return None
        final = dataclasses.replace(
            started,
            content=content if content is not None else started.content,
            status=status,
            meta={**started.meta, **meta_update},
        )
        self._path = [m for m in self._path if m.id != final.id] + [final]
        # The transcript already holds the tokens; it only needs the final header
        # (built without asking the database: the GUI thread does not wait here).
        self.sig_reply_ended.emit(
            MessageView(
                final.id,
                "assistant",
                final.content,
                status=final.status,
                branch_index=reply.branch[0],
                branch_count=reply.branch[1],
                detail=_detail(final),
                sources=_sources(final.meta),
                marks=_marks(final.meta, "".join(reply.texts), final.content),
                decisions=_decisions(final.meta),
            )
        )
        return final

    @Slot()
    def _on_save_timer_timeout(self) -> None:
        still = []
        for recorder in self._saving:
            if recorder.saving:
                still.append(recorder)
                continue
            try:
                recorder.join(0.0)
            except GlassboxError as exc:
                self.sig_notice.emit(
                    self.tr("The last reply could not be saved: {detail}").format(detail=exc), True
                )
        self._saving = still
        if not still:
            self._save_timer.stop()

    def wait_saved(self, timeout: float = 30.0) -> None:
        """Wait until finished replies are on disk (closing, tests)."""
        saving, self._saving = self._saving, []
        for recorder in saving:
            try:
                recorder.join(timeout)
            except GlassboxError as exc:
                log.warning("A reply could not be saved: %s", exc)

    @Slot(str, str)
    def _on_controller_error(self, kind: str, message: str) -> None:
        reply = self._reply
        if reply is None:
            return
        self._reply = None
        # What arrived before the error is kept.
        content = "".join(reply.texts)
        self._close_record(reply, "error", {"error": message, "error_kind": kind}, content)
        self.sig_busy.emit(False)

    @Slot(str, str)
    def _on_controller_model_fingerprint(self, path: str, sha256: str) -> None:
        self._fingerprints[path] = sha256

    def close(self) -> None:
        """Stop the reply and finish its record (the window is closing)."""
        self.wait_saved()
        self._tools.stop()
        self._tools.close_servers()
        reply = self._reply
        if reply is not None:
            self._reply = None
            self._controller.stop()
            try:
                reply.recorder.finish("cancelled", reply.meta_update, "".join(reply.texts))
            except GlassboxError as exc:
                # The store marks the reply interrupted at the next start.
                log.warning("Could not save the last reply on closing: %s", exc)


def _detail(message: StoredMessage) -> str:
    meta = message.meta
    if message.role != "assistant" or not meta:
        return ""
    parts = []
    model = meta.get("model_path")
    if isinstance(model, str) and model:
        parts.append(model.replace("\\", "/").rsplit("/", 1)[-1])
    rate = meta.get("tokens_per_s")
    if isinstance(rate, int | float) and rate > 0:
        parts.append(
            QCoreApplication.translate("ChatSession", "{rate:.1f} tok/s").format(rate=rate)
        )
    if meta.get("replay_of") is not None:
        parts.append(QCoreApplication.translate("ChatSession", "replay"))
    mode = meta.get("grounding_mode")
    given = len(meta.get("citations") or ())
    if mode == WHOLE_DOCUMENTS:
        parts.append(
            QCoreApplication.translate(
                "ChatSession", "answered from the whole documents ({n})"
            ).format(n=given)
        )
    elif mode == PASSAGES:
        parts.append(
            QCoreApplication.translate("ChatSession", "answered from {n} passage(s)").format(
                n=given
            )
        )
    if meta.get("unsupported_warning"):
        parts.append(
            QCoreApplication.translate(
                "ChatSession", "most sentences are not supported by the passages they cite"
            )
        )
    return " · ".join(parts)


def _decisions(meta: Mapping[str, Any]) -> frozenset[int]:
    """The tokens where the model decided to call a tool (-1: a call the user chose)."""
    steps = meta.get("tool_steps")
    if not isinstance(steps, list):
        return frozenset()
    return frozenset(
        s["decision"]
        for s in steps
        if isinstance(s, dict) and isinstance(s.get("decision"), int) and s["decision"] >= 0
    )


def _marks(meta: Mapping[str, Any], shown: str, body: str) -> tuple[SentenceMark, ...]:
    """Marks for the unsupported sentences saved with a reply (none when not checked)."""
    saved = meta.get("sentences")
    if not isinstance(saved, list) or not saved:
        return ()
    checks = [SentenceCheck.from_dict(d) for d in saved if isinstance(d, dict)]
    return sentence_marks([c for c in checks if c is not None], shown, body)


def _citation(n: int, hit: Any) -> dict[str, Any]:
    chunk = hit.chunk
    return {
        "n": n,
        "source": chunk.path,
        "chunk_id": chunk.chunk_id,
        "text": chunk.text,
        "char_start": chunk.char_start,
        "char_end": chunk.char_end,
        "page": chunk.page,
    }


def _sources(meta: Mapping[str, Any]) -> tuple[tuple[int, str], ...]:
    """(n, file name) of the sources a reply was given, for the links under it."""
    out = []
    for c in meta.get("citations") or ():
        if isinstance(c, dict) and isinstance(c.get("n"), int):
            out.append((c["n"], str(c.get("source", "")).replace("\\", "/").rsplit("/", 1)[-1]))
    return tuple(out)
