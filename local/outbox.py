"""The dev outbox: every email (SES v1/v2) and SMS (SNS Publish to a phone number) sent.

Read from what moto recorded, so delivery code needs nothing local-specific. moto keeps
no send time, so `sentAt` is when the outbox first saw a message; the server collects
after every request, which makes that the end of the request that sent it.
"""

from __future__ import annotations

import email
import email.policy
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from moto.ses.models import RawMessage, ses_backends
from moto.sns.models import sns_backends


class Outbox:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._entries: list[dict[str, str]] = []

    def collect(self) -> list[dict[str, str]]:
        """Record the messages moto received since the last call and return them."""
        with self._lock:
            sent_at = datetime.now(UTC).isoformat(timespec="milliseconds")
            new = []
            for message_id, channel, to, subject, text in _sent():
                if message_id not in self._seen:
                    self._seen.add(message_id)
                    new.append({"channel": channel, "to": to, "subject": subject, "text": text, "sentAt": sent_at})
            self._entries.extend(new)
            return new

    def entries(self) -> list[dict[str, str]]:
        """Everything sent so far (since the last clear), newest last."""
        self.collect()
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        self.collect()
        with self._lock:
            self._entries.clear()


def _sent() -> Iterator[tuple[str, str, str, str, str]]:
    """(message id, channel, to, subject, text) for every message in every moto region."""
    # list() copies: handler threads may append while we read.
    for per_account in list(ses_backends.values()):
        for backend in list(per_account.values()):
            for message in list(backend.sent_messages):
                yield (message.id, "email", *_email(message))
    for per_account in list(sns_backends.values()):
        for backend in list(per_account.values()):
            for message_id, (phone, text) in list(backend.sms_messages.items()):
                yield message_id, "sms", phone, "", text


def _email(message: Any) -> tuple[str, str, str]:
    if isinstance(message, RawMessage):
        parsed = email.message_from_string(message.raw_data, policy=email.policy.default)
        body = parsed.get_body(("plain", "html"))  # type: ignore[attr-defined]
        text = body.get_content() if body is not None else ""
        return ", ".join(message.destinations), str(parsed["subject"] or ""), text
    # moto's SES v2 Simple message keeps only one body: Html when given, else Text.
    to = ", ".join(address for addresses in message.destinations.values() for address in addresses)
    body = getattr(message, "body", "")
    return to, getattr(message, "subject", ""), html_to_text(body) if body.lstrip().startswith("<") else body


class _TextExtractor(HTMLParser):
    """Visible text of an HTML email: blocks on their own lines, <head>/<style> dropped.

    Our emails print every link's URL as text too, so nothing clickable is lost."""

    BLOCKS = frozenset({"p", "div", "br", "h1", "h2", "h3", "li", "tr", "table", "pre"})
    HIDDEN = frozenset({"head", "style", "script", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(markup: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(markup)
    lines = (line.strip() for line in "".join(extractor.parts).splitlines())
    return "\n".join(line for line in lines if line)
