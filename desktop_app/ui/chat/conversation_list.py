"""The chats sidebar: search, new chat, projects as folders, the chats newest first,
rename, move between projects by dragging, delete with undo.

The widget reads and renames chats in the ``ChatStore`` directly (small writes on
the GUI thread) and reports what the user picks through signals; the main window
opens chats, creates them and asks where to write exports. Projects are listed
first, by name, each a folder of its chats; the chats outside any project follow.
A chat dropped on a project (or on one of its chats) moves into it; dropped on a
chat outside projects or on empty space, it leaves its project. While the search
field holds text the list shows matching messages with their context instead of
the chats; Esc or emptying the field brings the chats back.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QByteArray,
    QCoreApplication,
    QEvent,
    QMimeData,
    QModelIndex,
    QObject,
    QPoint,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QDropEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.chat.importer import parse_origin
from desktop_app.core.chat.store import ChatStore, ChatSummary, Project, SearchHit
from desktop_app.core.errors import GlassboxError
from desktop_app.ui.chat.projects import ProjectDialog
from desktop_app.ui.common.errors import error_text

#: How long the Undo button stays after a delete.
UNDO_TIMEOUT_MS = 10_000
#: What a dragged chat carries: a JSON list of chat ids.
CHATS_MIME = "application/x-glassbox-chat-ids"
#: Pause after the last keystroke before searching, so typing stays smooth.
SEARCH_DELAY_MS = 150

_CHAT_ID = Qt.ItemDataRole.UserRole
_MESSAGE_ID = Qt.ItemDataRole.UserRole + 1
_PROJECT_ID = Qt.ItemDataRole.UserRole + 2
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
    who = _role_word(hit.role)
    if hit.in_thinking:
        # The match is in the reply's reasoning (its Thinking block), not its answer.
        who = QCoreApplication.translate("ConversationList", "{who} (thinking)").format(who=who)
    elif hit.in_tool:
        # The match is in one of the reply's tool calls (tool, arguments or result).
        who = QCoreApplication.translate("ConversationList", "{who} (tool call)").format(who=who)
    line = QCoreApplication.translate("ConversationList", "{who}: {snippet}").format(
        who=html.escape(who), snippet="".join(pieces)
    )
    return f"<div><b>{html.escape(hit.chat_title)}</b></div><div style='color:#444'>{line}</div>"


def _when(stamp: float) -> str | None:
    try:
        return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, OSError, ValueError):
        return None


class _ChatTree(QTreeWidget):
    """The tree of projects and chats; a chat dropped on it is moved, not copied.

    Qt's own move would only rearrange the rows: the drop is handed to
    ``on_drop`` (chat id, project id or None) and the sidebar then lists the store.
    """

    def __init__(self, parent: QWidget, on_drop: Callable[[int, int | None], None]) -> None:
        super().__init__(parent)
        self._on_drop = on_drop

    def drop_target(self, item: QTreeWidgetItem | None) -> int | None:
        """The project a chat dropped on ``item`` goes into (None: out of any)."""
        if item is None:
            return None
        project = item.data(0, _PROJECT_ID)
        parent = item.parent()
        if project is None and parent is not None:
            project = parent.data(0, _PROJECT_ID)
        return int(project) if project is not None else None

    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:
        data = super().mimeData(items)
        ids = [int(i.data(0, _CHAT_ID)) for i in items if i.data(0, _CHAT_ID) is not None]
        data.setData(CHATS_MIME, QByteArray(json.dumps(ids).encode("ascii")))
        return data

    def mimeTypes(self) -> list[str]:
        return [CHATS_MIME]

    def dropEvent(self, event: QDropEvent) -> None:
        data = event.mimeData()
        if not data.hasFormat(CHATS_MIME):
            event.ignore()
            return
        try:
            ids = json.loads(bytes(data.data(CHATS_MIME).data()).decode("ascii"))
        except ValueError:
            event.ignore()
            return
        target = self.itemAt(event.position().toPoint())
        # The rows are listed again from the store: Qt is not to move them itself.
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()
        for chat_id in ids if isinstance(ids, list) else []:
            if isinstance(chat_id, int):
                self._on_drop(chat_id, self.drop_target(target))


class ConversationList(QWidget):
    """The left sidebar: find, start, open, rename, move, delete and export chats."""

    sig_chat_selected = Signal(int)
    """The user picked a chat (its id) to open."""

    sig_message_selected = Signal(int, int)
    """The user picked a search hit: (chat id, message id) to open and scroll to."""

    sig_new_chat = Signal()
    """The user asked for a new chat (the main window creates it)."""

    sig_new_chat_in_project = Signal(int)
    """The user asked for a new chat in a project (its id), with the project's settings."""

    sig_export_requested = Signal(int, str)
    """Export a chat (id) as "md", "json" or "html"; the main window asks where."""

    sig_import_requested = Signal()
    """Import chats from a file; the main window asks which."""

    sig_chat_deleted = Signal(int)
    """A chat (id) was deleted (it can still be undone for a few seconds)."""

    sig_projects_changed = Signal()
    """A project was created, changed, deleted or restored, or a chat moved."""

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
        # (kind "chat" or "project", id, what the Undo bar says), newest last.
        self._deleted: list[tuple[str, int, str]] = []
        self._collapsed: set[int] = set()
        self._collections: Callable[[], list[str]] = list
        self._presets: Callable[[], list[Any]] = store.presets

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

        self._list = _ChatTree(self, self._drop_chat)
        self._list.setAccessibleName(self.tr("Chats"))
        self._list.setAccessibleDescription(
            self.tr(
                "Projects, then chats, most recent first. F2 renames, Delete deletes, "
                "the context menu exports and manages projects; drag a chat onto a "
                "project to move it there."
            )
        )
        self._list.setHeaderHidden(True)
        self._list.setColumnCount(1)
        self._list.setRootIsDecorated(True)
        self._list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self._list.setDefaultDropAction(Qt.DropAction.MoveAction)
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
        self._undo_button.setToolTip(self.tr("Bring back what was just deleted"))
        bar.addWidget(self._undo_label, stretch=1)
        bar.addWidget(self._undo_button)
        self._undo_bar.setVisible(False)
        layout.addWidget(self._undo_bar)

        # Actions on the selected chat or project: keyboard shortcuts on the list,
        # and the entries of its context menu.
        self._rename_action = QAction(self.tr("&Rename"), self)
        self._rename_action.setShortcut(QKeySequence(Qt.Key.Key_F2))
        self._delete_action = QAction(self.tr("&Delete"), self)
        self._delete_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self._export_actions: list[QAction] = []
        for fmt, text in export_choices():
            action = QAction(text, self)
            action.setData(fmt)
            self._export_actions.append(action)
        self._import_action = QAction(self.tr("&Import chats…"), self)
        self._import_action.setToolTip(
            self.tr("Add chats from a Glassbox JSON export or a ChatGPT conversations.json")
        )
        self._new_project_action = QAction(self.tr("New &project…"), self)
        self._project_settings_action = QAction(self.tr("Project &settings…"), self)
        self._project_chat_action = QAction(self.tr("New &chat in project"), self)
        self._delete_project_action = QAction(self.tr("&Delete project"), self)
        self._move_out_action = QAction(self.tr("&Move out of the project"), self)
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
        self._list.itemExpanded.connect(self._on_list_item_expanded)
        self._list.itemCollapsed.connect(self._on_list_item_collapsed)
        self._list.customContextMenuRequested.connect(self._on_list_context_menu_requested)
        self._rename_action.triggered.connect(self._on_rename_action_triggered)
        self._delete_action.triggered.connect(self._on_delete_action_triggered)
        for action in self._export_actions:
            action.triggered.connect(self._on_export_action_triggered)
        self._new_project_action.triggered.connect(self._on_new_project_action_triggered)
        self._import_action.triggered.connect(self.sig_import_requested)
        self._project_settings_action.triggered.connect(self._on_project_settings_action_triggered)
        self._project_chat_action.triggered.connect(self._on_project_chat_action_triggered)
        self._delete_project_action.triggered.connect(self._on_delete_action_triggered)
        self._move_out_action.triggered.connect(self._on_move_out_action_triggered)
        self._undo_button.clicked.connect(self._on_undo_button_clicked)
        self._undo_timer.timeout.connect(self._on_undo_timer_timeout)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Delete deletes with Undo; Backspace does nothing here (it is too easily
        # pressed by someone who thinks they are typing in a field).
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

    def set_collections_provider(self, names: Callable[[], list[str]]) -> None:
        """Where the project settings find the knowledge collections to offer."""
        self._collections = names

    def refresh(self, select_chat_id: int | None = None) -> None:
        """Reload from the store (the search hits while searching).

        ``select_chat_id`` becomes the highlighted chat; otherwise the highlighted
        chat or project stays. Selecting here emits nothing: the caller already knows.
        """
        if self._searching:
            self._run_search()
            return
        keep = select_chat_id if select_chat_id is not None else self.current_chat_id()
        keep_project = None if select_chat_id is not None else self._current_project_item_id()
        try:
            projects = self._store.list_projects()
            chats = self._store.list_chats()
        except GlassboxError as exc:
            self._report(exc)
            return
        self._populating = True
        try:
            self._list.clear()
            folders: dict[int, QTreeWidgetItem] = {}
            for project in projects:
                folder = self._project_item(project)
                self._list.addTopLevelItem(folder)
                folders[project.id] = folder
            for chat in chats:
                home = folders.get(chat.project_id) if chat.project_id is not None else None
                if home is not None:
                    home.addChild(self._chat_item(chat))
                else:
                    self._list.addTopLevelItem(self._chat_item(chat))
            for project_id, folder in folders.items():
                folder.setExpanded(project_id not in self._collapsed)
            self._list.setEditTriggers(
                QAbstractItemView.EditTrigger.DoubleClicked
                | QAbstractItemView.EditTrigger.EditKeyPressed
            )
            self._list.setDragEnabled(True)
            self._list.setAcceptDrops(True)
            if keep_project is not None:
                self._select_project(keep_project)
            elif keep is not None:
                self._select(keep)
        finally:
            self._populating = False

    def current_chat_id(self) -> int | None:
        """The highlighted chat (also when a search hit is highlighted), or None."""
        item = self._list.currentItem()
        if item is None:
            return None
        value = item.data(0, _CHAT_ID)
        return int(value) if value is not None else None

    def current_project_id(self) -> int | None:
        """The highlighted project, or the project of the highlighted chat, or None."""
        item = self._list.currentItem()
        if item is None or self._searching:
            return None
        value = item.data(0, _PROJECT_ID)
        parent = item.parent()
        if value is None and parent is not None:
            value = parent.data(0, _PROJECT_ID)
        return int(value) if value is not None else None

    def chat_titles(self) -> list[str]:
        """The chat titles listed, top to bottom, those in projects included (empty
        while search results are shown)."""
        if self._searching:
            return []
        return [item.text(0) for item in self._chat_items()]

    def project_names(self) -> list[str]:
        """The projects listed, top to bottom."""
        if self._searching:
            return []
        return [top.text(0) for top in self._tops() if top.data(0, _PROJECT_ID) is not None]

    def chats_in_project(self, project_id: int | None) -> list[str]:
        """Titles of the chats listed in a project (None: outside any), top to bottom."""
        out = []
        for item in self._chat_items():
            parent = item.parent()
            if (parent.data(0, _PROJECT_ID) if parent is not None else None) == project_id:
                out.append(item.text(0))
        return out

    def project_item(self, project_id: int) -> QTreeWidgetItem | None:
        """The folder row of a project (for tests and tools)."""
        for item in self._tops():
            if item.data(0, _PROJECT_ID) == project_id:
                return item
        return None

    def chat_item(self, chat_id: int) -> QTreeWidgetItem | None:
        """The row of a chat (for tests and tools)."""
        return next((i for i in self._chat_items() if i.data(0, _CHAT_ID) == chat_id), None)

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
        """Start editing the highlighted chat's title (or project's name) in place."""
        item = self._list.currentItem()
        if item is not None and not self._searching:
            self._list.editItem(item, 0)

    def delete_current(self) -> None:
        """Delete the highlighted chat or project, with Undo offered for a few seconds."""
        item = self._list.currentItem()
        if item is None or self._searching:
            return
        project_id = item.data(0, _PROJECT_ID)
        if project_id is not None:
            self.delete_project(int(project_id))
            return
        chat_id = self.current_chat_id()
        if chat_id is None:
            return
        title = item.text(0)
        neighbours = self._chat_items()
        row = next((n for n, i in enumerate(neighbours) if i is item), 0)
        try:
            self._store.delete_chat(chat_id)
        except GlassboxError as exc:
            self._report(exc)
            return
        self._offer_undo("chat", chat_id, self.tr("Deleted “{title}”.").format(title=title))
        self.refresh(select_chat_id=-1)
        self.sig_chat_deleted.emit(chat_id)
        # The neighbour takes the deleted chat's place, as in a file list.
        left = self._chat_items()
        if left:
            self._list.setCurrentItem(left[min(row, len(left) - 1)])

    def delete_project(self, project_id: int) -> None:
        """Delete a project (its chats stay, outside it), with Undo for a few seconds."""
        try:
            name = self._store.project(project_id).name
            self._store.delete_project(project_id)
        except GlassboxError as exc:
            self._report(exc)
            return
        self._offer_undo(
            "project",
            project_id,
            self.tr("Deleted the project “{name}”; its chats were kept.").format(name=name),
        )
        self.refresh()
        self.sig_projects_changed.emit()

    def undo_delete(self) -> None:
        """Bring back what was deleted last: a chat (then opened) or a project."""
        if not self._deleted:
            return
        kind, item_id, _ = self._deleted.pop()
        try:
            if kind == "project":
                self._store.restore_project(item_id)
            else:
                self._store.restore_chat(item_id)
        except GlassboxError as exc:
            self._report(exc)
            return
        self._clear_error()
        if not self._deleted:
            self._hide_undo()
        else:
            self._undo_label.setText(self._deleted[-1][2])
        if kind == "project":
            self.refresh()
            self._select_project(item_id)
            self.sig_projects_changed.emit()
            return
        self.refresh(select_chat_id=item_id)
        self.sig_chat_selected.emit(item_id)

    @property
    def undo_visible(self) -> bool:
        """Whether the Undo button is offered."""
        return not self._undo_bar.isHidden()

    def new_project(self, name: str | None = None) -> int | None:
        """Create a project (asking for its settings unless ``name`` is given); its id."""
        if name is None:
            dialog = self._project_dialog(None)
            if dialog.exec() != ProjectDialog.DialogCode.Accepted:
                return None
            values = dialog.values()
        else:
            values = {"name": name}
        try:
            project_id = self._store.create_project(**values)
        except GlassboxError as exc:
            self._report(exc)
            return None
        self._clear_error()
        self._collapsed.discard(project_id)
        self.refresh()
        self._select_project(project_id)
        self.sig_projects_changed.emit()
        return project_id

    def edit_project(self, project_id: int) -> bool:
        """Show a project's settings; True when changes were saved."""
        try:
            project = self._store.project(project_id)
        except GlassboxError as exc:
            self._report(exc)
            return False
        dialog = self._project_dialog(project)
        if dialog.exec() != ProjectDialog.DialogCode.Accepted:
            return False
        try:
            self._store.update_project(project_id, **dialog.values())
        except GlassboxError as exc:
            self._report(exc)
            return False
        self._clear_error()
        self.refresh()
        self.sig_projects_changed.emit()
        return True

    def move_chat(self, chat_id: int, project_id: int | None) -> None:
        """Put a chat into a project (None: out of any), as a drag and drop does."""
        self._drop_chat(chat_id, project_id)

    # ----------------------------------------------------------------- items

    def _tops(self) -> list[QTreeWidgetItem]:
        items = (self._list.topLevelItem(i) for i in range(self._list.topLevelItemCount()))
        return [item for item in items if item is not None]

    def _chat_items(self) -> list[QTreeWidgetItem]:
        out: list[QTreeWidgetItem] = []
        for top in self._tops():
            if top.data(0, _PROJECT_ID) is not None:
                children = (top.child(k) for k in range(top.childCount()))
                out.extend(child for child in children if child is not None)
            elif top.data(0, _CHAT_ID) is not None and top.data(0, _MESSAGE_ID) is None:
                out.append(top)
        return out

    def _project_item(self, project: Project) -> QTreeWidgetItem:
        item = QTreeWidgetItem([project.name])
        item.setData(0, _PROJECT_ID, project.id)
        # A project takes drops (chats moved into it); it is not dragged itself.
        item.setFlags(
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsEditable
            | Qt.ItemFlag.ItemIsDropEnabled
        )
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        item.setIcon(0, self.style().standardIcon(QStyle.StandardPixmap.SP_DirIcon))
        item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
        item.setData(
            0,
            Qt.ItemDataRole.AccessibleTextRole,
            self.tr("Project {name}").format(name=project.name),
        )
        lines = [self.tr("Project “{name}”").format(name=project.name)]
        if project.system_prompt:
            lines.append(self.tr("System prompt: {text}").format(text=project.system_prompt[:120]))
        if project.collections:
            lines.append(
                self.tr("Collections: {names}").format(names=", ".join(project.collections))
            )
        if project.files:
            lines.append(self.tr("Pinned files: {files}").format(files=", ".join(project.files)))
        if project.note:
            lines.append(project.note)
        item.setToolTip(0, "\n".join(lines))
        return item

    def _chat_item(self, chat: ChatSummary) -> QTreeWidgetItem:
        item = QTreeWidgetItem([chat.title])
        item.setData(0, _CHAT_ID, chat.id)
        item.setFlags(
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsEditable
            | Qt.ItemFlag.ItemIsDragEnabled
            | Qt.ItemFlag.ItemIsDropEnabled
        )
        when = _when(chat.updated)
        if when is None:
            tip = self.tr("Last changed: unknown date")
        else:
            tip = self.tr("Last changed {when}").format(when=when)
        origin = parse_origin(chat.origin)
        if origin is not None:
            tip += "\n" + self.tr("Imported from {source} ({file}) on {date}").format(
                source=origin.source_name, file=origin.file, date=origin.date
            )
        if chat.note:
            tip += f"\n{chat.note}"
        item.setToolTip(0, tip)
        return item

    def _hit_item(self, hit: SearchHit) -> tuple[QTreeWidgetItem, QLabel]:
        item = QTreeWidgetItem()
        item.setData(0, _CHAT_ID, hit.chat_id)
        item.setData(0, _MESSAGE_ID, hit.message_id)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        plain = f"{hit.chat_title}: {hit.plain_snippet}"
        item.setData(0, Qt.ItemDataRole.AccessibleTextRole, plain)
        item.setToolTip(0, plain)
        label = QLabel(_hit_html(hit))
        label.setAccessibleName(self.tr("Search result in {title}").format(title=hit.chat_title))
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setWordWrap(True)
        label.setContentsMargins(4, 2, 4, 2)
        # Clicks go to the list, so a hit is picked like any row.
        label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        return item, label

    def _current_project_item_id(self) -> int | None:
        item = self._list.currentItem()
        value = item.data(0, _PROJECT_ID) if item is not None else None
        return int(value) if value is not None else None

    def _select(self, chat_id: int) -> None:
        item = self.chat_item(chat_id)
        if item is not None:
            self._list.setCurrentItem(item)
        else:
            self._list.setCurrentIndex(QModelIndex())

    def _select_project(self, project_id: int) -> None:
        item = self.project_item(project_id)
        if item is not None:
            self._list.setCurrentItem(item)

    def _project_dialog(self, project: Project | None) -> ProjectDialog:
        try:
            presets = list(self._presets())
        except GlassboxError:
            presets = []
        return ProjectDialog(project, self._collections(), presets, self)

    def _drop_chat(self, chat_id: int, project_id: int | None) -> None:
        try:
            if self._store.chat(chat_id).project_id == project_id:
                return
            self._store.move_chat(chat_id, project_id)
        except GlassboxError as exc:
            self._report(exc)
            return
        self._clear_error()
        if project_id is not None:
            self._collapsed.discard(project_id)
        self.refresh(select_chat_id=chat_id)
        self.sig_projects_changed.emit()

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
            self._list.setDragEnabled(False)
            self._list.setAcceptDrops(False)
            if not hits:
                empty = QTreeWidgetItem(
                    [self.tr("No messages contain “{query}”.").format(query=query)]
                )
                empty.setFlags(Qt.ItemFlag.NoItemFlags)
                self._list.addTopLevelItem(empty)
            for hit in hits:
                item, label = self._hit_item(hit)
                self._list.addTopLevelItem(item)
                item.setSizeHint(0, label.sizeHint())
                self._list.setItemWidget(item, 0, label)
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

    def _offer_undo(self, kind: str, item_id: int, text: str) -> None:
        self._clear_error()
        self._deleted.append((kind, item_id, text))
        self._undo_label.setText(text)
        self._undo_bar.setVisible(True)
        self._undo_timer.start()

    def _hide_undo(self) -> None:
        self._undo_timer.stop()
        self._undo_bar.setVisible(False)

    def _menu_for(self, item: QTreeWidgetItem | None) -> QMenu | None:
        """The context menu for ``item`` (None for search hits; empty space offers
        a new project)."""
        if self._searching:
            return None
        menu = QMenu(self)
        if item is None:
            menu.setAccessibleName(self.tr("Chats actions"))
            menu.addAction(self._new_project_action)
            menu.addAction(self._import_action)
            return menu
        if item.data(0, _PROJECT_ID) is not None:
            menu.setAccessibleName(self.tr("Project actions"))
            menu.addAction(self._project_chat_action)
            menu.addAction(self._project_settings_action)
            menu.addAction(self._rename_action)
            menu.addAction(self._delete_project_action)
            menu.addSeparator()
            menu.addAction(self._new_project_action)
            return menu
        if item.data(0, _CHAT_ID) is None:
            menu.deleteLater()
            return None
        menu.setAccessibleName(self.tr("Chat actions"))
        menu.addAction(self._rename_action)
        menu.addAction(self._delete_action)
        menu.addSeparator()
        for action in self._export_actions:
            menu.addAction(action)
        menu.addAction(self._import_action)
        menu.addSeparator()
        if item.parent() is not None:
            menu.addAction(self._project_chat_action)
            menu.addAction(self._move_out_action)
        menu.addAction(self._new_project_action)
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
        if self._list.topLevelItemCount():
            self._list.setFocus()
            self._list.setCurrentItem(self._tops()[0])

    @Slot()
    def _on_search_timer_timeout(self) -> None:
        self._run_search()

    @Slot()
    def _on_new_button_clicked(self) -> None:
        if self._search.text():
            self._search.clear()
        self.sig_new_chat.emit()

    @Slot(QTreeWidgetItem, QTreeWidgetItem)
    def _on_list_current_item_changed(
        self, current: QTreeWidgetItem | None, previous: QTreeWidgetItem | None
    ) -> None:
        if self._populating or current is None:
            return
        chat_id = current.data(0, _CHAT_ID)
        if chat_id is None:
            return
        message_id = current.data(0, _MESSAGE_ID)
        if message_id is not None:
            self.sig_message_selected.emit(int(chat_id), int(message_id))
        else:
            self.sig_chat_selected.emit(int(chat_id))

    @Slot(QTreeWidgetItem, int)
    def _on_list_item_changed(self, item: QTreeWidgetItem, _column: int) -> None:
        if self._populating or self._searching:
            return
        name = item.text(0).strip()
        project_id = item.data(0, _PROJECT_ID)
        chat_id = item.data(0, _CHAT_ID)
        try:
            if project_id is not None:
                if name and name != self._store.project(int(project_id)).name:
                    self._store.rename_project(int(project_id), name)
                    self.sig_projects_changed.emit()
            elif chat_id is not None:
                if name and name != self._store.chat(int(chat_id)).title:
                    self._store.rename_chat(int(chat_id), name)
            else:
                return
            self._clear_error()
        except GlassboxError as exc:
            self._report(exc)
        # Not now: the view is still closing the editor of this very item.
        QTimer.singleShot(0, self, self.refresh)

    @Slot(QTreeWidgetItem)
    def _on_list_item_expanded(self, item: QTreeWidgetItem) -> None:
        project_id = item.data(0, _PROJECT_ID)
        if project_id is not None and not self._populating:
            self._collapsed.discard(int(project_id))

    @Slot(QTreeWidgetItem)
    def _on_list_item_collapsed(self, item: QTreeWidgetItem) -> None:
        project_id = item.data(0, _PROJECT_ID)
        if project_id is not None and not self._populating:
            self._collapsed.add(int(project_id))

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
    def _on_new_project_action_triggered(self) -> None:
        self.new_project()

    @Slot()
    def _on_project_settings_action_triggered(self) -> None:
        project_id = self.current_project_id()
        if project_id is not None:
            self.edit_project(project_id)

    @Slot()
    def _on_project_chat_action_triggered(self) -> None:
        project_id = self.current_project_id()
        if project_id is not None:
            if self._search.text():
                self._search.clear()
            self.sig_new_chat_in_project.emit(project_id)

    @Slot()
    def _on_move_out_action_triggered(self) -> None:
        chat_id = self.current_chat_id()
        if chat_id is not None:
            self._drop_chat(chat_id, None)

    @Slot()
    def _on_undo_button_clicked(self) -> None:
        self.undo_delete()

    @Slot()
    def _on_undo_timer_timeout(self) -> None:
        self._deleted.clear()
        self._undo_bar.setVisible(False)
