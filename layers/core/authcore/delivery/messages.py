"""Message templates for outgoing email and SMS, and their rendering.

Templates live in ``templates/<lang>/`` next to this module, one directory per language; ``en`` is the
fallback and the reference set, and every language has the same files:

- ``<name>.txt`` of an email: ``Subject: ...`` on the first line, one blank line, then the plain-text body.
- ``<name>.html`` of an email: an HTML fragment, placed as ``$content`` into ``templates/layout.html``
  (whose other placeholders are ``$lang`` and ``$title``, the escaped subject).
- ``sms-<name>.txt``: a single short line. Keep it to the GSM-7 alphabet and well under 160 characters,
  so it goes out as one SMS segment; the code comes first, for the phones' one-time-code autofill.

Placeholders are :class:`string.Template` ones: ``$name`` or ``${name}``, and ``$$`` for a literal ``$``.
Callers pass every variable a template uses (a missing one raises ``KeyError``); extra ones are ignored.
Values go in raw into the subject, the text body and SMS, except that line breaks and other control
characters are removed from the values used in a subject (no header injection); into HTML fragments
every value goes in ``html.escape``d. A value is never expanded again, so a ``$`` in it stays as it is.

User-chosen text (``$name``, the only such variable: API.md §7) is neutralised whatever the caller
passes (:func:`shown_name`): one line, no control or invisible characters, at most ``MAX_SHOWN_NAME``
characters, and dropped entirely when it holds anything a mail client may turn into a link (a URL,
a domain, an address, a phone number). Callers pass :func:`name_for` of the user, which is ``""``
unless the address the message goes to is verified: nothing user-chosen reaches an address whose
owner may not be the one who chose it.

Optional lines, in email bodies (``.txt`` and ``.html``, not the subject): a line whose first non-blank
character is ``?`` is dropped when any variable on it is ``""``, and kept without the ``?`` otherwise.
A dropped line takes no blank line's place: it leaves neither a doubled blank line nor a leading one.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

TEMPLATES = Path(__file__).parent / "templates"
DEFAULT_LANGUAGE = "en"
SUBJECT_PREFIX = "Subject: "

_MAX_LOCALE = 35
_LOCALE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8}){0,3}")
_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Out of values in a subject: CR, LF and every other C0/C1 control, and the Unicode line and paragraph separators.
_NOT_IN_SUBJECT = dict.fromkeys([*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029])


USER_CHOSEN = ("name",)
MAX_SHOWN_NAME = 64
# Invisible or line-breaking characters: controls (Cc), format characters such as bidi overrides and
# zero-width spaces (Cf), line and paragraph separators (Zl, Zp).
_HIDDEN = ("Cc", "Cf", "Zl", "Zp")
# What a mail client may make a link of, after NFKC (which folds fullwidth and other look-alike dots): a
# scheme, "www.", an @, a dot between two word characters (a domain), or five digits (a phone number).
_LINK_LIKE = re.compile(r"[a-z][a-z0-9+.-]*:|www\.|@|\w\.\w|(?:\d\D{0,2}){5}", re.IGNORECASE)


def shown_name(value: str) -> str:
    """User-chosen text as a message may show it: see the module docstring ("" when it is not safe)."""
    text = unicodedata.normalize("NFKC", value)
    text = "".join(" " if char.isspace() else "" if unicodedata.category(char) in _HIDDEN else char for char in text)
    text = " ".join(text.split())
    if _LINK_LIKE.search(text):
        return ""
    return text if len(text) <= MAX_SHOWN_NAME else text[: MAX_SHOWN_NAME - 1].rstrip() + "…"


def name_for(user: dict[str, Any]) -> str:
    """The name to greet `user` with in an email to their address: "" while that address is unverified
    (a squatter may have signed up with someone else's address and chosen the name)."""
    return shown_name(user.get("name", "")) if user.get("emailVerification") else ""


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


@cache
def _languages() -> frozenset[str]:
    return frozenset(path.name for path in TEMPLATES.iterdir() if path.is_dir() and _LOCALE.fullmatch(path.name))


def language(locale: str | None) -> str:
    """The template language for a locale header value ("de", "de-AT", "fr_CA", "PT-br", "", None): the full tag if a
    template dir exists, else the primary subtag, else "en". Lower-case; "_" treated as "-". Anything odd (path
    separators, dots, long strings) -> "en"."""
    if not isinstance(locale, str):
        return DEFAULT_LANGUAGE
    tag = locale.strip().lower().replace("_", "-")
    if len(tag) > _MAX_LOCALE or not _LOCALE.fullmatch(tag):
        return DEFAULT_LANGUAGE
    available = _languages()
    if tag in available:
        return tag
    primary = tag.partition("-")[0]
    return primary if primary in available else DEFAULT_LANGUAGE


def render_email(name: str, locale: str | None, variables: Mapping[str, str]) -> Email:
    """Subject, plain text and HTML of email template `name`, in the language for `locale`."""
    lang = language(locale)
    subject_source, text_source, html_source = _email_templates(lang, name)
    variables = {**variables, **{key: shown_name(variables[key]) for key in USER_CHOSEN if key in variables}}

    subject_template = Template(subject_source)
    subject_values = {key: variables[key].translate(_NOT_IN_SUBJECT) for key in subject_template.get_identifiers()}
    subject = subject_template.substitute(subject_values).strip()

    text = Template(_optional_lines(text_source, variables)).substitute(variables).strip("\n") + "\n"

    escaped = {key: html.escape(value, quote=True) for key, value in variables.items()}
    fragment = Template(_optional_lines(html_source, variables)).substitute(escaped).strip("\n")
    page = Template(_layout()).substitute(lang=lang, title=html.escape(subject, quote=True), content=fragment)
    return Email(subject=subject, text=text, html=page)


def render_sms(name: str, locale: str | None, variables: Mapping[str, str]) -> str:
    """The one-line text of SMS template `name` ("sms-..."), in the language for `locale`."""
    if not name.startswith("sms-"):
        raise ValueError(f"not an SMS template: {name!r}")
    return Template(_sms_template(language(locale), name)).substitute(variables)


def _optional_lines(source: str, variables: Mapping[str, str]) -> str:
    """`source` without its "?" lines that name an empty variable, and without the "?" of the others."""
    kept: list[str] = []
    dropped = False
    for line in source.splitlines(keepends=True):
        content = line.lstrip(" \t")
        if content.startswith("?"):
            if any(variables[key] == "" for key in Template(content).get_identifiers()):
                dropped = True
                continue
            line = line[: len(line) - len(content)] + content[1:]
        if dropped and not line.strip() and (not kept or not kept[-1].strip()):
            continue
        dropped = False
        kept.append(line)
    return "".join(kept)


def _read(lang: str, name: str, suffix: str) -> str:
    if lang not in _languages() or not _NAME.fullmatch(name):
        raise ValueError(f"no such template: {lang}/{name}{suffix}")
    return (TEMPLATES / lang / f"{name}{suffix}").read_text(encoding="utf-8")


@cache
def _email_templates(lang: str, name: str) -> tuple[str, str, str]:
    """(subject, text body, HTML fragment) sources of an email template."""
    first, _, rest = _read(lang, name, ".txt").partition("\n")
    blank, _, body = rest.partition("\n")
    if not first.startswith(SUBJECT_PREFIX) or blank.strip():
        raise ValueError(f"{lang}/{name}.txt must start with a {SUBJECT_PREFIX!r} line and a blank line")
    return first.removeprefix(SUBJECT_PREFIX), body, _read(lang, name, ".html")


@cache
def _sms_template(lang: str, name: str) -> str:
    source = _read(lang, name, ".txt").strip()
    if "\n" in source:
        raise ValueError(f"{lang}/{name}.txt must be a single line")
    return source


@cache
def _layout() -> str:
    return (TEMPLATES / "layout.html").read_text(encoding="utf-8")
