"""Security-notification emails (MFA on/off, authenticator app, recovery codes): every one in every language."""

from html import escape
from html.parser import HTMLParser
from pathlib import Path
from string import Template

import pytest

from authcore.delivery import messages
from authcore.delivery.messages import SUBJECT_PREFIX, render_email

TEMPLATES = Path(messages.__file__).parent / "templates"
LANGUAGES = ["en", "de", "fr", "es"]

# The variables each notification uses, all of them in its text and HTML body.
NOTIFICATIONS = {
    "email-mfa-enabled": {"project", "name"},
    "email-mfa-disabled": {"project", "name"},
    "email-authenticator-added": {"project", "name"},
    "email-authenticator-removed": {"project", "name"},
    "email-recovery-code-used": {"project", "name", "remaining"},
    "email-recovery-codes-regenerated": {"project", "name"},
    "email-email-changed": {"project", "name"},
    "email-recovery-codes-created": {"project", "name"},
    "email-password-reset": {"project", "name"},
    "email-passkey-added": {"project", "name"},
    "email-passkey-removed": {"project", "name"},
}
SAMPLE = {"project": "Acme Cloud", "name": "Ada", "remaining": "7"}
GREETING = {"en": "Hello Ada,", "de": "Hallo Ada,", "fr": "Bonjour Ada,", "es": "Hola, Ada:"}
GREETING_WORD = {"en": "Hello", "de": "Hallo", "fr": "Bonjour", "es": "Hola"}

CASES = [(name, lang) for name in NOTIFICATIONS for lang in LANGUAGES]


def variables(template, **overrides):
    return {key: overrides.get(key, SAMPLE[key]) for key in NOTIFICATIONS[template]}


class _Paragraphs(HTMLParser):
    """The visible text of each <p> of an HTML document, the tags left open or closed out of order, and any links."""

    VOID = frozenset({"br", "meta", "img", "hr", "link"})

    def __init__(self, document):
        super().__init__()
        self.paragraphs, self.open, self.mismatched, self.links = [], [], [], []
        self._current = None
        self.feed(document)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag == "a" or any(key == "href" for key, _ in attrs):
            self.links.append(tag)
        if tag == "p":
            self._current = []
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag == "p" and self._current is not None:
            self.paragraphs.append("".join(self._current).replace("\xa0", " "))
            self._current = None
        if not self.open or self.open.pop() != tag:
            self.mismatched.append(tag)

    def handle_data(self, data):
        if self._current is not None:
            self._current.append(data)


# --- the files --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_has_every_notification(lang):
    names = {path.name for path in (TEMPLATES / lang).iterdir()}
    for name in NOTIFICATIONS:
        assert {f"{name}.txt", f"{name}.html"} <= names, f"{lang}/{name}"


@pytest.mark.parametrize(("name", "lang"), CASES)
def test_each_file_uses_exactly_its_variables(name, lang):
    txt = (TEMPLATES / lang / f"{name}.txt").read_text(encoding="utf-8")
    fragment = (TEMPLATES / lang / f"{name}.html").read_text(encoding="utf-8")
    subject, _, body = txt.partition("\n")

    assert subject.startswith(SUBJECT_PREFIX)
    assert set(Template(subject).get_identifiers()) == {"project"}  # never a name, a count or a code on a lock screen
    for source in (body, fragment):
        assert Template(source).is_valid()
        assert set(Template(source).get_identifiers()) == NOTIFICATIONS[name]
    greeting = [line for line in body.splitlines() if "$name" in line]
    assert greeting == [f"?{GREETING[lang].replace('Ada', '$name')}"]  # the one optional line, as in email-mfa-code


# --- rendering --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "lang"), CASES)
def test_renders_completely(name, lang):
    email = render_email(name, lang, variables(name))

    assert email.subject.strip()
    assert SAMPLE["project"] in email.subject
    assert "\n" not in email.subject
    for part in (email.subject, email.text, email.html):
        assert "$" not in part
        assert "http" not in part
    assert not any(line.lstrip().startswith("?") for line in (email.text + email.html).splitlines())
    assert email.text.startswith(f"{GREETING[lang]}\n\n")
    assert email.text.endswith("\n")
    assert "\n\n\n" not in email.text
    assert SAMPLE["project"] in email.text

    page = _Paragraphs(email.html)
    assert not page.open
    assert not page.mismatched
    assert not page.links
    assert f'<html lang="{lang}">' in email.html
    assert f"<title>{escape(email.subject)}</title>" in email.html
    assert page.paragraphs[0] == GREETING[lang]

    if lang != "en":  # really translated, not the English text
        english = render_email(name, "en", variables(name))
        assert email.subject != english.subject
        assert email.text != english.text


@pytest.mark.parametrize(("name", "lang"), CASES)
def test_text_and_html_say_the_same(name, lang):
    email = render_email(name, lang, variables(name))
    assert _Paragraphs(email.html).paragraphs == email.text.strip("\n").split("\n\n")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_notification_ends_with_the_same_security_line(lang):
    emails = [render_email(name, lang, variables(name)) for name in NOTIFICATIONS]
    assert len({email.text.strip("\n").split("\n\n")[-1] for email in emails}) == 1
    for email in emails:  # the small grey closing paragraph of every email
        assert '<p style="margin:0;font-size:14px;color:#52525b;">' in email.html.rsplit("</p>", 2)[-2]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("remaining", ["0", "1", "9"])
def test_recovery_code_used_shows_what_is_left(lang, remaining):
    email = render_email("email-recovery-code-used", lang, variables("email-recovery-code-used", remaining=remaining))
    assert f" {remaining}\n" in email.text
    assert f"<strong>{remaining}</strong>" in email.html
    assert remaining not in email.subject


@pytest.mark.parametrize(("name", "lang"), CASES)
def test_an_empty_name_drops_the_greeting(name, lang):
    full = render_email(name, lang, variables(name))
    bare = render_email(name, lang, variables(name, name=""))

    assert GREETING_WORD[lang] not in bare.text
    assert GREETING_WORD[lang] not in bare.html
    assert "Hello ," not in bare.text
    assert not bare.text.startswith("\n")
    assert "\n\n\n" not in bare.text
    assert bare.text == full.text.removeprefix(f"{GREETING[lang]}\n\n")
    assert bare.subject == full.subject
    assert _Paragraphs(bare.html).paragraphs == _Paragraphs(full.html).paragraphs[1:]


@pytest.mark.parametrize(("name", "lang"), CASES)
def test_a_name_is_escaped_in_html_and_raw_in_text(name, lang):
    evil = '<img src=x onerror="alert(1)"> & Co'
    email = render_email(name, lang, variables(name, name=evil))

    assert escape(evil, quote=True) in email.html
    assert "<img" not in email.html
    assert 'onerror="' not in email.html
    assert email.text.startswith(GREETING[lang].replace("Ada", evil) + "\n\n")
    assert evil not in email.subject
    assert _Paragraphs(email.html).paragraphs[0] == GREETING[lang].replace("Ada", evil)


@pytest.mark.parametrize(("name", "lang"), CASES)
def test_a_project_name_is_escaped_in_html(name, lang):
    email = render_email(name, lang, variables(name, project="A&B <Co>"))
    assert "A&B <Co>" in email.subject
    assert "A&amp;B &lt;Co&gt;" in email.html
    assert "<Co>" not in email.html
    assert "A&B <Co>" in email.text
