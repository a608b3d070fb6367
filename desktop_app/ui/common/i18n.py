"""The window's languages: Qt translators for English (the source) and Simplified Chinese.

Every visible string is written in English in the code, wrapped in ``self.tr()``
(or ``QCoreApplication.translate(context, …)`` outside a QObject), extracted by
``pyside6-lupdate`` into ``resources/i18n/zh_CN/<module>.ts`` and compiled by
``pyside6-lrelease`` into ``desktop_app/i18n/glassbox_zh_CN.qm`` (``make translations``).

The language follows the system unless Settings → Language names one. ``pseudo`` is
a developer's language: every string is stretched by half and bracketed, to see
which strings are not translated and which layouts do not fit longer text.
"""

from __future__ import annotations

from importlib import resources

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtWidgets import QApplication

#: The languages offered in settings, by their own name.
LANGUAGES: dict[str, str] = {"en": "English", "zh_CN": "简体中文"}
#: What a setting may hold: a language, "system", or the developers' pseudo language.
CHOICES = ("system", *LANGUAGES, "pseudo")
QM_NAME = "glassbox_{lang}.qm"


def resolve_language(choice: str, system: QLocale | None = None) -> str:
    """The language to show for a setting: itself, or the system's when it is ``system``."""
    if choice in LANGUAGES or choice == "pseudo":
        return choice
    locale = system if system is not None else QLocale.system()
    # Simplified is the only Chinese there is; readers of traditional Chinese are
    # better served by it than by English.
    if locale.language() == QLocale.Language.Chinese:
        return "zh_CN"
    for name in locale.uiLanguages():
        if name.lower().startswith("zh"):
            return "zh_CN"
    return "en"


def qm_path(lang: str) -> str:
    """The compiled translation for ``lang`` inside the package."""
    return str(resources.files("desktop_app.i18n").joinpath(QM_NAME.format(lang=lang)))


class PseudoTranslator(QTranslator):
    """Stretches every string by half and brackets it: «[Ŝave ~~~]».

    Text that shows up in the window without the brackets did not go through
    Qt's translation system; a layout that clips the stretched text would clip a
    long translation too.
    """

    MARK_OPEN = "["
    MARK_CLOSE = "]"

    def translate(
        self, context: str, source: str, disambiguation: str | None = None, n: int = -1
    ) -> str:
        if not source:
            return source
        return stretch(source)

    def isEmpty(self) -> bool:
        return False


def stretch(source: str) -> str:
    """The pseudo translation of one string: each line bracketed and half as long again.

    ``{placeholders}``, ``&`` mnemonics and line breaks survive, so formatted text
    and shortcuts still work.
    """

    def one(line: str) -> str:
        if not line.strip():
            return line
        # In words of four, so the stretched text wraps where a translation would.
        tildes = "~" * max(2, len(line) // 2)
        pad = " ".join(tildes[i : i + 4] for i in range(0, len(tildes), 4))
        return f"{PseudoTranslator.MARK_OPEN}{line} {pad}{PseudoTranslator.MARK_CLOSE}"

    return "\n".join(one(line) for line in source.split("\n"))


def install_translators(app: QApplication, choice: str) -> str:
    """Install the translators for ``choice`` on ``app``; returns the language shown.

    Earlier translators installed here are removed first, so a second call
    replaces the language rather than stacking on it. A missing or unreadable
    ``.qm`` leaves the window in English rather than failing.
    """
    for old in getattr(app, "_glassbox_translators", []):
        app.removeTranslator(old)
    lang = resolve_language(choice)
    installed: list[QTranslator] = []
    if lang == "pseudo":
        installed.append(PseudoTranslator(app))
    elif lang != "en":
        # Qt's own strings first (standard buttons, colour and file dialogs)...
        qt = QTranslator(app)
        if qt.load(f"qtbase_{lang}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
            installed.append(qt)
        # ...then ours, which Qt asks first because it is installed last.
        ours = QTranslator(app)
        if ours.load(qm_path(lang)):
            installed.append(ours)
        else:
            lang = "en"
    for translator in installed:
        app.installTranslator(translator)
    app._glassbox_translators = installed  # type: ignore[attr-defined]
    if lang == "zh_CN":
        # Dates and numbers in Qt's own widgets follow the language shown.
        QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    return lang
