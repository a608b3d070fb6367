"""The per-chat Thinking switch of the Conversation panel.

It turns a reasoning model's native thinking on or off through its chat template
(``enable_thinking`` in Qwen3's, ``/think`` and ``/no_think`` in SmolLM3's…). It is
enabled only for a model whose template has such a switch; its tooltip says why
otherwise. Not ticked by hand, it shows the template's default (a chat's value
is None until the user chooses).
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QCheckBox, QWidget

from desktop_app.core.chat.thinking import ThinkingSupport


class ThinkingSwitch(QCheckBox):
    """Thinking on/off for the chat; ``sig_changed`` carries True, False or None."""

    sig_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Thinking"), parent)
        self.setObjectName("thinking_switch")
        self.setAccessibleName(self.tr("Thinking"))
        self._support: ThinkingSupport | None = None
        self._remote = False
        self._value: bool | None = None
        self._updating = False
        self.toggled.connect(self._on_toggled)
        self.set_support(None)

    @property
    def value(self) -> bool | None:
        """The chat's choice (None: the template's default)."""
        return self._value

    def set_value(self, value: bool | None) -> None:
        """Show a chat's choice without emitting ``sig_changed``."""
        self._value = value
        self._show()

    def set_support(self, support: ThinkingSupport | None, remote: bool = False) -> None:
        """What the loaded model's template allows (None: no model loaded)."""
        self._support = support
        self._remote = remote
        self._show()

    def _show(self) -> None:
        support = self._support
        self._updating = True
        try:
            if self._remote:
                self.setEnabled(True)
                self.setChecked(self._value is not False)
                self.setToolTip(
                    self.tr(
                        "Asks the server to turn the model's thinking on or off "
                        "(chat_template_kwargs enable_thinking); its template decides."
                    )
                )
            elif support is None:
                self.setEnabled(False)
                self.setChecked(False)
                self.setToolTip(
                    self.tr("Load a model to see whether it can think before answering.")
                )
            elif not support.switchable:
                self.setEnabled(False)
                self.setChecked(support.default_on)
                if support.reasoning_model:
                    why = self.tr(
                        "This model always thinks first: its chat template has no switch to turn "
                        "thinking off."
                    )
                else:
                    why = self.tr(
                        "This model's chat template has no thinking switch "
                        "(such as Qwen3's enable_thinking), so it cannot be turned on or off here."
                    )
                self.setToolTip(why)
            else:
                self.setEnabled(True)
                self.setChecked(support.effective(self._value))
                how = (
                    self.tr("/think or /no_think in the system prompt")
                    if support.switch == "flag"
                    else self.tr("the template's {name} variable").format(name=support.switch)
                )
                self.setToolTip(
                    self.tr(
                        "Let the model reason before it answers; the reasoning shows as a "
                        "Thinking block above the answer. Switched through {how}; on by default: "
                        "{default}."
                    ).format(
                        how=how, default=self.tr("yes") if support.default_on else self.tr("no")
                    )
                )
        finally:
            self._updating = False

    @Slot(bool)
    def _on_toggled(self, on: bool) -> None:
        if self._updating:
            return
        self._value = on
        self.sig_changed.emit(on)
