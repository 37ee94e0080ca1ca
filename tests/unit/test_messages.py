"""Message templates: language choice, escaping, subject hygiene, optional lines, every template in every language."""

from html.parser import HTMLParser
from pathlib import Path
from string import Template

import pytest

from authcore.delivery import messages
from authcore.delivery.messages import Email, language, render_email, render_sms

TEMPLATES = Path(messages.__file__).parent / "templates"
LANGUAGES = ["en", "de", "fr", "es"]

# The variables each template uses, all of them in every file of it (subject included for emails).
EMAILS = {
    "email-verification": {"project", "name", "url", "minutes"},
    "email-sign-in-code": {"project", "name", "code", "minutes", "phrase"},
    "email-mfa-code": {"project", "name", "code", "minutes"},
    "email-sign-in-link": {"project", "name", "url", "minutes", "phrase"},
    "email-verification-code": {"project", "name", "code", "minutes", "phrase"},
    # Recovery: no name, the address may be unverified (API.md §7), and its profile is not read.
    "email-recovery": {"project", "url", "minutes"},
    "email-recovery-code": {"project", "code", "minutes", "phrase"},
}
# Security notifications (tested in test_notification_templates.py); listed here so every language keeps the same files.
NOTIFICATIONS = [
    "email-mfa-enabled",
    "email-mfa-disabled",
    "email-authenticator-added",
    "email-authenticator-removed",
    "email-recovery-code-used",
    "email-recovery-codes-regenerated",
    "email-email-changed",
    "email-recovery-codes-created",
    "email-password-reset",
    "email-passkey-added",
    "email-passkey-removed",
]
NOTICE_SMS = ["sms-phone-changed"]  # a security notice by SMS: no code, only the project
SMS = {
    "sms-verification-code": {"project", "code", "minutes"},
    "sms-sign-in-code": {"project", "code", "minutes"},
    "sms-mfa-code": {"project", "code", "minutes"},
}
SAMPLE = {
    "project": "Acme Cloud",
    "name": "Ada",
    "url": "https://auth.example.com/verify?userId=u1&secret=5ec4e7",
    "code": "493817",
    "minutes": "10",
    "phrase": "Brave Otter",
}

# GSM 03.38: the basic alphabet (one septet each) and its extension table (two septets each).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("\f^{}\\[~]|€")


def variables(names, **overrides):
    return {name: overrides.get(name, SAMPLE[name]) for name in names}


class _Page(HTMLParser):
    """Tags that do not close, the hrefs, and the visible text of an HTML document."""

    VOID = frozenset({"br", "meta", "img", "hr", "link"})

    def __init__(self, document):
        super().__init__()
        self.open, self.mismatched, self.hrefs, self.texts = [], [], [], []
        self.feed(document)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.hrefs += [value for key, value in attrs if key == "href"]
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if not self.open or self.open.pop() != tag:
            self.mismatched.append(tag)

    def handle_data(self, data):
        self.texts.append(data)

    @property
    def text(self):
        return "".join(self.texts)


# --- language ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("de", "de"),
        ("de-AT", "de"),
        ("DE-at", "de"),
        ("fr_CA", "fr"),
        ("es-419", "es"),
        (" fr ", "fr"),
        ("en-US", "en"),
        ("PT-br", "en"),
        ("xx", "en"),
        (None, "en"),
        ("", "en"),
        ("../etc", "en"),
        ("de/../fr", "en"),
        ("de\\fr", "en"),
        ("de.utf-8", "en"),
        ("de-DE,de;q=0.9", "en"),
        ("de-" + "a" * 40, "en"),
        ("d", "en"),
    ],
)
def test_language(locale, expected):
    assert language(locale) == expected


def test_language_prefers_a_full_tag_with_its_own_templates(monkeypatch):
    monkeypatch.setattr(messages, "_languages", lambda: frozenset({"en", "de", "de-at"}))
    assert language("de_AT") == "de-at"
    assert language("de-CH") == "de"
    assert language("fr") == "en"


def test_languages_found_on_disk():
    assert messages._languages() == frozenset(LANGUAGES)


# --- the template files -----------------------------------------------------------------------------------------------


def test_every_language_has_the_same_template_files_as_en():
    emails = [*EMAILS, *NOTIFICATIONS]
    texts = [*SMS, *NOTICE_SMS]
    expected = {f"{name}.txt" for name in emails} | {f"{name}.html" for name in emails} | {f"{n}.txt" for n in texts}
    for lang in LANGUAGES:
        assert {path.name for path in (TEMPLATES / lang).iterdir()} == expected, lang


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize(("name", "suffix"), [(n, s) for n in EMAILS for s in (".txt", ".html")])
def test_email_templates_use_exactly_their_variables(lang, name, suffix):
    source = (TEMPLATES / lang / f"{name}{suffix}").read_text(encoding="utf-8")
    assert set(Template(source).get_identifiers()) == EMAILS[name]
    assert Template(source).is_valid()


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", SMS)
def test_sms_templates_use_exactly_their_variables(lang, name):
    source = (TEMPLATES / lang / f"{name}.txt").read_text(encoding="utf-8")
    assert set(Template(source).get_identifiers()) == SMS[name]
    assert source.strip().startswith("$code ")  # first, for the phones' one-time-code autofill


# --- every template in every language ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", EMAILS)
def test_every_email_renders(lang, name):
    email = render_email(name, lang, variables(EMAILS[name]))

    assert isinstance(email, Email)
    assert SAMPLE["project"] in email.subject
    assert "\n" not in email.subject
    assert SAMPLE["code"] not in email.subject  # subjects show on lock screens
    for part in (email.subject, email.text, email.html):
        assert "$" not in part
    assert not any(line.lstrip().startswith("?") for line in (email.text + email.html).splitlines())
    assert "\n\n\n" not in email.text
    assert email.text.endswith("\n")
    assert not email.text.startswith("\n")
    assert ("Ada" in email.text) == ("name" in EMAILS[name])

    page = _Page(email.html)
    assert not page.open
    assert not page.mismatched
    assert email.html.startswith("<!DOCTYPE html>")
    assert f'<html lang="{lang}">' in email.html
    assert f"<title>{email.subject}</title>" in email.html
    assert ("Ada" in page.text) == ("name" in EMAILS[name])
    assert SAMPLE["project"] in page.text

    if "url" in EMAILS[name]:
        assert SAMPLE["url"] in email.text
        assert page.hrefs == [SAMPLE["url"], SAMPLE["url"]]  # the button and the copyable link
        assert SAMPLE["url"] in page.text
    else:
        assert f"\n    {SAMPLE['code']}\n" in email.text
        assert SAMPLE["code"] in page.text
    if "phrase" in EMAILS[name]:
        assert SAMPLE["phrase"] in email.text
        assert SAMPLE["phrase"] in page.text

    if lang != "en":  # really translated, not the English text
        english = render_email(name, "en", variables(EMAILS[name]))
        assert email.subject != english.subject
        assert email.text != english.text


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", SMS)
def test_every_sms_renders_as_one_gsm7_segment(lang, name):
    project = "P" * 20
    text = render_sms(name, lang, variables(SMS[name], project=project))

    assert text.startswith(f"{SAMPLE['code']} ")
    assert project in text
    assert f"{SAMPLE['minutes']} " in text
    assert "\n" not in text
    assert "$" not in text
    outside = {char for char in text if char not in GSM7_BASIC | GSM7_EXTENDED}
    assert not outside, f"not GSM-7 (the SMS would be sent as UCS-2, 70 characters a segment): {outside}"
    septets = sum(2 if char in GSM7_EXTENDED else 1 for char in text)
    assert septets < 160


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", NOTICE_SMS)
def test_a_notice_sms_is_one_gsm7_segment_naming_only_the_project(lang, name):
    project = "P" * 20
    source = (TEMPLATES / lang / f"{name}.txt").read_text(encoding="utf-8")
    assert set(Template(source).get_identifiers()) == {"project"}
    text = render_sms(name, lang, {"project": project})
    assert project in text and "\n" not in text and "$" not in text and "http" not in text
    assert not {char for char in text if char not in GSM7_BASIC | GSM7_EXTENDED}
    assert sum(2 if char in GSM7_EXTENDED else 1 for char in text) < 160
    if lang != "en":
        assert text != render_sms(name, "en", {"project": project})


@pytest.mark.parametrize("name", SMS)
def test_sms_follows_the_locale(name):
    texts = {lang: render_sms(name, lang, variables(SMS[name])) for lang in LANGUAGES}
    assert len(set(texts.values())) == len(LANGUAGES)
    assert render_sms(name, "de-CH", variables(SMS[name])) == texts["de"]
    assert render_sms(name, "xx", variables(SMS[name])) == texts["en"]


def test_english_wording():
    assert render_sms("sms-sign-in-code", None, variables(SMS["sms-sign-in-code"])) == (
        "493817 is your Acme Cloud sign-in code. Valid for 10 min. Never share it."
    )
    email = render_email("email-sign-in-code", "en", variables(EMAILS["email-sign-in-code"]))
    assert email.subject == "Your Acme Cloud sign-in code"
    assert email.text == (
        "Hello Ada,\n\nYour code to sign in to Acme Cloud:\n\n    493817\n\n"
        "It works once and expires in 10 minutes.\n\n"
        "Security phrase: Brave Otter — check that it matches the one shown where you signed in.\n\n"
        "Never share this code. If you did not try to sign in, you can ignore this email.\n"
    )
    assert render_email("email-verification", "en", variables(EMAILS["email-verification"])).subject == (
        "Verify your email for Acme Cloud"
    )


# --- escaping and hygiene ---------------------------------------------------------------------------------------------


def test_html_escapes_every_value_and_the_text_part_does_not():
    url = 'https://auth.example.com/verify?userId=u1&secret=s"1'
    name = "<script>alert(1)</script>"
    email = render_email("email-verification", "en", variables(EMAILS["email-verification"], url=url, name=name))

    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in email.html
    assert 'href="https://auth.example.com/verify?userId=u1&amp;secret=s&quot;1"' in email.html
    assert ">https://auth.example.com/verify?userId=u1&amp;secret=s&quot;1</a>" in email.html
    assert "userId=u1&secret" not in email.html
    assert _Page(email.html).hrefs == [url, url]

    assert f"Hello {name}," in email.text
    assert f"\n{url}\n" in email.text


def test_html_escapes_a_name_and_the_title():
    values = variables(EMAILS["email-mfa-code"], name="<b>Ada</b>", project="A&B <Co>")
    email = render_email("email-mfa-code", "en", values)
    assert "Hello &lt;b&gt;Ada&lt;/b&gt;," in email.html
    assert "<b>Ada</b>" not in email.html
    assert email.subject == "Your A&B <Co> verification code"
    assert "<title>Your A&amp;B &lt;Co&gt; verification code</title>" in email.html
    assert "finish signing in to A&B <Co>:" in email.text


def test_values_are_not_expanded_again():
    values = variables(EMAILS["email-sign-in-code"], name="$project ${code} $content")
    email = render_email("email-sign-in-code", "en", values)
    assert "Hello $project ${code} $content," in email.text
    assert "Hello $project ${code} $content," in email.html


@pytest.mark.parametrize("project", ["Acme\r\nBcc: x", "Acme\nBcc: x", "Acme\rBcc: x", "Acme\u2028Bcc: x\x85\x00"])
def test_subject_values_lose_their_line_breaks(project):
    email = render_email("email-sign-in-code", "en", variables(EMAILS["email-sign-in-code"], project=project))
    assert email.subject == "Your AcmeBcc: x sign-in code"
    assert len(email.subject.splitlines()) == 1
    assert "<title>Your AcmeBcc: x sign-in code</title>" in email.html


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", EMAILS)
def test_no_subject_takes_a_line_break(lang, name):
    values = variables(EMAILS[name], project="Acme\r\nBcc: evil@example.com\r\n", name="A\r\nB")
    subject = render_email(name, lang, values).subject
    assert "\r" not in subject
    assert "\n" not in subject
    assert "AcmeBcc: evil@example.com" in subject


# --- optional lines ---------------------------------------------------------------------------------------------------


def test_empty_phrase_drops_its_line():
    email = render_email("email-sign-in-code", "en", variables(EMAILS["email-sign-in-code"], phrase=""))
    assert "Security phrase" not in email.text
    assert "Security phrase" not in email.html
    assert "<strong>" not in email.html
    assert "It works once and expires in 10 minutes.\n\nNever share this code." in email.text


def test_set_phrase_keeps_its_line_without_the_marker():
    email = render_email("email-sign-in-code", "en", variables(EMAILS["email-sign-in-code"], phrase="Calm Heron"))
    assert "\nSecurity phrase: Calm Heron — check" in email.text
    assert "?Security" not in email.text
    assert '<p style="margin:0 0 16px;padding:12px 16px;' in email.html
    assert "Security phrase: <strong>Calm Heron</strong>" in email.html
    assert "?<p" not in email.html


def test_empty_name_drops_the_greeting():
    email = render_email("email-verification", "en", variables(EMAILS["email-verification"], name=""))
    assert email.text.startswith("Please confirm your email address for Acme Cloud by opening this link:\n\n")
    assert "Hello" not in email.text
    assert "Hello" not in email.html


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", [name for name, used in EMAILS.items() if used & {"name", "phrase"}])
def test_every_email_reads_well_without_its_optional_values(lang, name):
    full = render_email(name, lang, variables(EMAILS[name]))
    bare = render_email(name, lang, variables(EMAILS[name], name="", phrase=""))
    assert not bare.text.startswith("\n")
    assert "\n\n\n" not in bare.text
    assert not any(line.lstrip().startswith("?") for line in (bare.text + bare.html).splitlines())
    assert len(bare.text.splitlines()) < len(full.text.splitlines())
    assert bare.html.count("<p ") < full.html.count("<p ")
    assert not _Page(bare.html).open


def test_optional_lines():
    source = "A\n\n?B $x\n\nC\n  ?<p>${x}</p>\n?always\n"
    assert messages._optional_lines(source, {"x": ""}) == "A\n\nC\nalways\n"
    assert messages._optional_lines(source, {"x": "1"}) == "A\n\nB $x\n\nC\n  <p>${x}</p>\nalways\n"
    assert messages._optional_lines("?$x\n\nA\n", {"x": ""}) == "A\n"
    assert messages._optional_lines("A\n?$x $y\nB\n", {"x": "1", "y": ""}) == "A\nB\n"
    with pytest.raises(KeyError):
        messages._optional_lines("?$missing\n", {})


# --- errors -----------------------------------------------------------------------------------------------------------


def test_a_missing_variable_is_a_key_error():
    values = variables(EMAILS["email-sign-in-code"])
    del values["code"]
    with pytest.raises(KeyError, match="code"):
        render_email("email-sign-in-code", "en", values)
    with pytest.raises(KeyError, match="minutes"):
        render_sms("sms-sign-in-code", "en", {"project": "Acme", "code": "1"})


@pytest.mark.parametrize("name", ["../en/email-verification", "email-verification/", "EMAIL-VERIFICATION", ""])
def test_odd_template_names_are_refused(name):
    with pytest.raises(ValueError, match="no such template"):
        render_email(name, "en", SAMPLE)


def test_unknown_templates_and_kinds():
    with pytest.raises(FileNotFoundError):
        render_email("email-nothing", "en", SAMPLE)
    with pytest.raises(ValueError, match="not an SMS template"):
        render_sms("email-verification", "en", SAMPLE)
    with pytest.raises(ValueError, match="Subject"):
        render_email("sms-sign-in-code", "en", SAMPLE)
