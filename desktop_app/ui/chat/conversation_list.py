"""The chats sidebar: search, new chat, the chats newest first, rename, delete with undo.

The widget reads and renames chats in the ``ChatStore`` directly (small writes on
the GUI thread) and reports what the user picks through signals; the main window
opens chats, creates them and asks where to write exports. While the search
field holds text the list shows matching messages with their context instead of
the chats; Esc or emptying the field brings the chats back.
"""

from __future__ import annotations

import html
from datetime import datetime

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QPoint, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.chat.store import ChatStore, ChatSummary, SearchHit
from desktop_app.core.errors import GlassboxError
from desktop_app.ui.common.errors import error_text

#: How long the Undo button stays after a delete.
UNDO_TIMEOUT_MS = 10_000
#: Pause after the last keystroke before searching, so typing stays smooth.
SEARCH_DELAY_MS = 150

_CHAT_ID = Qt.ItemDataRole.UserRole
_MESSAGE_ID = Qt.ItemDataRole.UserRole + 1
_ERROR_STYLE = "color: #a40000;"


def export_choices() -> tuple[tuple[str, str], ...]:
    """Export formats offered in the context menu, as (format, menu text)."""
    return (
        ("md", QCoreApplication.translate("ConversationList", "Export as &Markdown…")),
        ("json", QCoreApplication.translate("ConversationList", "Export as &JSON…")),
        ("html", QCoreApplication.translate("ConversationList", "Export as &HTML…")),
    )


def _role_word(role: str) -> str:
    words = {
        "user": QCoreApplication.translate("ConversationList", "You"),
        "assistant": QCoreApplication.translate("ConversationList", "Assistant"),
        "system": QCoreApplication.translate("ConversationList", "System"),
    }
    return words.get(role, role)


class _SearchField(QLineEdit):
    """A line edit that empties itself on Esc (and lets Esc through when already empty)."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()
            event.accept()
            return
        super().keyPressEvent(event)


def _hit_html(hit: SearchHit) -> str:
    """The hit as rich text: chat title, then who wrote it and the snippet, matches in bold."""
    pieces = []
    for text, is_match in hit.snippet_parts():
        escaped = html.escape(text.replace("\n", " "))
        pieces.append(f"<b>{escaped}</b>" if is_match else escaped)
    line = QCoreApplication.translate("ConversationList", "{who}: {snippet}").format(
        who=html.escape(_role_word(hit.role)), snippet="".join(pieces)
    )
    return f"<div><b>{html.escape(hit.chat_title)}</b></div><div style='color:#444'>{line}</div>"


def _when(stamp: float) -> str | None:
    try:
        return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, OSError, ValueError):
        return None


class ConversationList(QWidget):
    """The left sidebar: find, start, open, rename, delete and export chats."""

    sig_chat_selected = Signal(int)
    """The user picked a chat (its id) to open."""

    sig_message_selected = Signal(int, int)
    """The user picked a search hit: (chat id, message id) to open and scroll to."""

    sig_new_chat = Signal()
    """The user asked for a new chat (the main window creates it)."""

    sig_export_requested = Signal(int, str)
    """Export a chat (id) as "md", "json" or "html"; the main window asks where."""

    sig_chat_deleted = Signal(int)
    """A chat (id) was deleted (it can still be undone for a few seconds)."""

    sig_error = Signal(str)
    """A store operation failed; the message is for the user (also shown here)."""

    def __init__(
        self,
        store: ChatStore,
        parent: QWidget | None = None,
        undo_timeout_ms: int = UNDO_TIMEOUT_MS,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._populating = False
        self._searching = False
        self._deleted: list[tuple[int, str]] = []  # (id, title), newest last

        self.setAccessibleName(self.tr("Chats sidebar"))
        self._build()
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.setInterval(undo_timeout_ms)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._connect()
        self.refresh()

    # ----------------------------------------------------------------- building

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)

        top = QHBoxLayout()
        self._search = _SearchField(self)
        self._search.setAccessibleName(self.tr("Search chats"))
        self._search.setPlaceholderText(self.tr("Search all chats"))
        self._search.setToolTip(self.tr("Find messages in every chat. Esc clears the search."))
        self._search.setClearButtonEnabled(True)
        self._new_button = QPushButton(self.tr("New chat"), self)
        self._new_button.setAccessibleName(self.tr("New chat"))
        self._new_button.setToolTip(self.tr("Start a new conversation"))
        top.addWidget(self._search, stretch=1)
        top.addWidget(self._new_button)
        layout.addLayout(top)

        self._list = QListWidget(self)
        self._list.setAccessibleName(self.tr("Chats"))
        self._list.setAccessibleDescription(
            self.tr(
                "Chats, most recent first. F2 renames, Delete deletes, the context menu exports."
            )
        )
        self._list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._list.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self._list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self._list.setWordWrap(True)
        layout.addWidget(self._list, stretch=1)

        self._error_label = QLabel("", self)
        self._error_label.setAccessibleName(self.tr("Chats error"))
        self._error_label.setWordWrap(True)
        self._error_label.setStyleSheet(_ERROR_STYLE)
        self._error_label.setVisible(False)
        layout.addWidget(self._error_label)

        self._undo_bar = QWidget(self)
        self._undo_bar.setAccessibleName(self.tr("Undo delete"))
        bar = QHBoxLayout(self._undo_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        self._undo_label = QLabel("", self._undo_bar)
        self._undo_label.setAccessibleName(self.tr("Deleted chat"))
        # A long title wraps instead of widening the sidebar.
        self._undo_label.setWordWrap(True)
        self._undo_button = QPushButton(self.tr("Undo"), self._undo_bar)
        self._undo_button.setAccessibleName(self.tr("Undo delete"))
        self._undo_button.setToolTip(self.tr("Bring back the deleted chat"))
        bar.addWidget(self._undo_label, stretch=1)
        bar.addWidget(self._undo_button)
        self._undo_bar.setVisible(False)
        layout.addWidget(self._undo_bar)

        # Actions on the selected chat: keyboard shortcuts on the list, and the
        # entries of its context menu.
        self._rename_action = QAction(self.tr("&Rename"), self)
        self._rename_action.setShortcut(QKeySequence(Qt.Key.Key_F2))
        self._delete_action = QAction(self.tr("&Delete"), self)
        self._delete_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self._export_actions: list[QAction] = []
        for fmt, text in export_choices():
            action = QAction(text, self)
            action.setData(fmt)
            self._export_actions.append(action)
        for action in (self._rename_action, self._delete_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            self._list.addAction(action)
        # The shortcuts need an active window; keys that reach the list directly
        # (the shortcut map let them through) are handled here too.
        self._list.installEventFilter(self)

    def _connect(self) -> None:
        self._search.textChanged.connect(self._on_search_text_changed)
        self._search.returnPressed.connect(self._on_search_return_pressed)
        self._search_timer.timeout.connect(self._on_search_timer_timeout)
        self._new_button.clicked.connect(self._on_new_button_clicked)
        self._list.currentItemChanged.connect(self._on_list_current_item_changed)
        self._list.itemChanged.connect(self._on_list_item_changed)
        self._list.customContextMenuRequested.connect(self._on_list_context_menu_requested)
        self._rename_action.triggered.connect(self._on_rename_action_triggered)
        self._delete_action.triggered.connect(self._on_delete_action_triggered)
        for action in self._export_actions:
            action.triggered.connect(self._on_export_action_triggered)
        self._undo_button.clicked.connect(self._on_undo_button_clicked)
        self._undo_timer.timeout.connect(self._on_undo_timer_timeout)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self._list
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Delete
            and self._list.state() != QAbstractItemView.State.EditingState
        ):
            self.delete_current()
            return True
        return super().eventFilter(watched, event)

    # ----------------------------------------------------------------- public

    def refresh(self, select_chat_id: int | None = None) -> None:
        """Reload from the store (the search hits while searching).

        ``select_chat_id`` becomes the highlighted chat; otherwise the highlighted
        one stays. Selecting here emits nothing: the caller already knows.
        """
        if self._searching:
            self._run_search()
            return
        keep = select_chat_id if select_chat_id is not None else self.current_chat_id()
        try:
            chats = self._store.list_chats()
        except GlassboxError as exc:
            self._report(exc)
            return
        self._populating = True
        try:
            self._list.clear()
            for chat in chats:
                self._list.addItem(self._chat_item(chat))
            self._list.setEditTriggers(
                QAbstractItemView.EditTrigger.DoubleClicked
                | QAbstractItemView.EditTrigger.EditKeyPressed
            )
            if keep is not None:
                self._select(keep)
        finally:
            self._populating = False

    def current_chat_id(self) -> int | None:
        """The highlighted chat (also when a search hit is highlighted), or None."""
        item = self._list.currentItem()
        if item is None:
            return None
        value = item.data(_CHAT_ID)
        return int(value) if value is not None else None

    def chat_titles(self) -> list[str]:
        """The titles listed, top to bottom (empty while search results are shown)."""
        if self._searching:
            return []
        return [self._list.item(i).text() for i in range(self._list.count())]

    def focus_search(self) -> None:
        """Put the cursor in the search field with its text selected."""
        self._search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self._search.selectAll()

    def search(self, text: str) -> None:
        """Search for ``text`` now (as if typed and the pause elapsed)."""
        self._search.setText(text)
        self._search_timer.stop()
        self._run_search()

    def rename_current(self) -> None:
        """Start editing the highlighted chat's title in place."""
        item = self._list.currentItem()
        if item is not None and not self._searching:
            self._list.editItem(item)

    def delete_current(self) -> None:
        """Delete the highlighted chat, with Undo offered for a few seconds."""
        chat_id = self.current_chat_id()
        item = self._list.currentItem()
        if chat_id is None or item is None or self._searching:
            return
        title = item.text()
        row = self._list.row(item)
        try:
            self._store.delete_chat(chat_id)
        except GlassboxError as exc:
            self._report(exc)
            return
        self._clear_error()
        self._deleted.append((chat_id, title))
        self._undo_label.setText(self.tr("Deleted “{title}”.").format(title=title))
        self._undo_bar.setVisible(True)
        self._undo_timer.start()
        self.refresh(select_chat_id=-1)
        self.sig_chat_deleted.emit(chat_id)
        # The neighbour takes the deleted chat's place, as in a file list.
        if self._list.count():
            self._list.setCurrentRow(min(row, self._list.count() - 1))

    def undo_delete(self) -> None:
        """Bring back the most recently deleted chat and open it."""
        if not self._deleted:
            return
        chat_id, _ = self._deleted.pop()
        try:
            self._store.restore_chat(chat_id)
        except GlassboxError as exc:
            self._report(exc)
            return
        self._clear_error()
        if not self._deleted:
            self._hide_undo()
        else:
            self._undo_label.setText(
                self.tr("Deleted “{title}”.").format(title=self._deleted[-1][1])
            )
        self.refresh(select_chat_id=chat_id)
        self.sig_chat_selected.emit(chat_id)

    @property
    def undo_visible(self) -> bool:
        """Whether the Undo button is offered."""
        return not self._undo_bar.isHidden()

    # ----------------------------------------------------------------- items

    def _chat_item(self, chat: ChatSummary) -> QListWidgetItem:
        item = QListWidgetItem(chat.title)
        item.setData(_CHAT_ID, chat.id)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        when = _when(chat.updated)
        if when is None:
            tip = self.tr("Last changed: unknown date")
        else:
            tip = self.tr("Last changed {when}").format(when=when)
        if chat.note:
            tip += f"\n{chat.note}"
        item.setToolTip(tip)
        return item

    def _hit_item(self, hit: SearchHit) -> tuple[QListWidgetItem, QLabel]:
        item = QListWidgetItem()
        item.setData(_CHAT_ID, hit.chat_id)
        item.setData(_MESSAGE_ID, hit.message_id)
        plain = f"{hit.chat_title}: {hit.plain_snippet}"
        item.setData(Qt.ItemDataRole.AccessibleTextRole, plain)
        item.setToolTip(plain)
        label = QLabel(_hit_html(hit))
        label.setAccessibleName(self.tr("Search result in {title}").format(title=hit.chat_title))
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setWordWrap(True)
        label.setContentsMargins(4, 2, 4, 2)
        # Clicks go to the list, so a hit is picked like any row.
        label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        return item, label

    def _select(self, chat_id: int) -> None:
        for i in range(self._list.count()):
            item = self._list.item(i)
            if item.data(_CHAT_ID) == chat_id and item.data(_MESSAGE_ID) is None:
                self._list.setCurrentItem(item)
                return
        self._list.setCurrentRow(-1)

    def _run_search(self) -> None:
        query = self._search.text().strip()
        if not query:
            self._searching = False
            self.refresh()
            return
        self._searching = True
        try:
            hits = self._store.search(query)
        except GlassboxError as exc:
            self._report(exc)
            return
        self._clear_error()
        self._populating = True
        try:
            self._list.clear()
            self._list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            if not hits:
                empty = QListWidgetItem(
                    self.tr("No messages contain “{query}”.").format(query=query)
                )
                empty.setFlags(Qt.ItemFlag.NoItemFlags)
                self._list.addItem(empty)
            for hit in hits:
                item, label = self._hit_item(hit)
                self._list.addItem(item)
                item.setSizeHint(label.sizeHint())
                self._list.setItemWidget(item, label)
        finally:
            self._populating = False

    # ----------------------------------------------------------------- feedback

    def _report(self, exc: GlassboxError) -> None:
        text = error_text(exc.kind, str(exc))
        self._error_label.setText(text)
        self._error_label.setVisible(True)
        self.sig_error.emit(text)

    def _clear_error(self) -> None:
        self._error_label.setVisible(False)
        self._error_label.clear()

    def _hide_undo(self) -> None:
        self._undo_timer.stop()
        self._undo_bar.setVisible(False)

    def _menu_for(self, item: QListWidgetItem | None) -> QMenu | None:
        """The context menu for ``item`` (None for search hits and empty space)."""
        if item is None or self._searching or item.data(_CHAT_ID) is None:
            return None
        menu = QMenu(self)
        menu.setAccessibleName(self.tr("Chat actions"))
        menu.addAction(self._rename_action)
        menu.addAction(self._delete_action)
        menu.addSeparator()
        for action in self._export_actions:
            menu.addAction(action)
        return menu

    # ----------------------------------------------------------------- slots

    @Slot(str)
    def _on_search_text_changed(self, text: str) -> None:
        if text.strip():
            self._search_timer.start()
        else:
            self._search_timer.stop()
            self._run_search()

    @Slot()
    def _on_search_return_pressed(self) -> None:
        self._search_timer.stop()
        self._run_search()
        if self._list.count():
            self._list.setFocus()
            self._list.setCurrentRow(0)

    @Slot()
    def _on_search_timer_timeout(self) -> None:
        self._run_search()

    @Slot()
    def _on_new_button_clicked(self) -> None:
        if self._search.text():
            self._search.clear()
        self.sig_new_chat.emit()

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_list_current_item_changed(
        self, current: QListWidgetItem | None, previous: QListWidgetItem | None
    ) -> None:
        if self._populating or current is None:
            return
        chat_id = current.data(_CHAT_ID)
        if chat_id is None:
            return
        message_id = current.data(_MESSAGE_ID)
        if message_id is not None:
            self.sig_message_selected.emit(int(chat_id), int(message_id))
        else:
            self.sig_chat_selected.emit(int(chat_id))

    @Slot(QListWidgetItem)
    def _on_list_item_changed(self, item: QListWidgetItem) -> None:
        if self._populating or self._searching:
            return
        chat_id = item.data(_CHAT_ID)
        if chat_id is None:
            return
        title = item.text().strip()
        try:
            if title and title != self._store.chat(int(chat_id)).title:
                self._store.rename_chat(int(chat_id), title)
            self._clear_error()
        except GlassboxError as exc:
            self._report(exc)
        # Not now: the view is still closing the editor of this very item.
        QTimer.singleShot(0, self, self.refresh)

    @Slot(QPoint)
    def _on_list_context_menu_requested(self, pos: QPoint) -> None:
        item = self._list.itemAt(pos)
        menu = self._menu_for(item)
        if menu is None:
            return
        if item is not None:
            self._list.setCurrentItem(item)
        menu.exec(self._list.viewport().mapToGlobal(pos))
        menu.deleteLater()

    @Slot()
    def _on_rename_action_triggered(self) -> None:
        self.rename_current()

    @Slot()
    def _on_delete_action_triggered(self) -> None:
        self.delete_current()

    @Slot()
    def _on_export_action_triggered(self) -> None:
        action = self.sender()
        chat_id = self.current_chat_id()
        if isinstance(action, QAction) and chat_id is not None and not self._searching:
            self.sig_export_requested.emit(chat_id, str(action.data()))

    @Slot()
    def _on_undo_button_clicked(self) -> None:
        self.undo_delete()

    @Slot()
    def _on_undo_timer_timeout(self) -> None:
        self._deleted.clear()
        self._undo_bar.setVisible(False)
