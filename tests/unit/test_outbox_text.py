"""Text of an HTML email for the dev outbox; the verification link's query; which URLs a link may point to."""

from __future__ import annotations

from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from pydantic import TypeAdapter, ValidationError

from authcore.config import settings
from authcore.delivery.messages import render_email
from authcore.models.fields import AppUrl
from authcore.services.verification import link
from local.outbox import html_to_text

# --- html_to_text --------------------------------------------------------------------------------


def test_head_style_title_and_script_are_dropped():
    markup = (
        "<html><head><meta charset='utf-8'><title>Subject line</title>"
        "<style>p { color: red; }</style></head>"
        "<body><script>alert(1)</script><p>Body</p></body></html>"
    )
    assert html_to_text(markup) == "Body"


def test_block_elements_go_on_their_own_lines():
    markup = "<h1>Title</h1>intro<p>one</p><p>two</p><div>three</div>four<br>five<ul><li>a</li><li>b</li></ul>"
    assert html_to_text(markup).splitlines() == ["Title", "intro", "one", "two", "three", "four", "five", "a", "b"]


def test_self_closing_br_breaks_the_line():
    assert html_to_text("<p>first<br/>second</p>") == "first\nsecond"


def test_spaces_around_inline_tags_are_kept():
    markup = "<p>Security phrase: <b>Sunny Garden</b> — check it.</p>"
    assert html_to_text(markup) == "Security phrase: Sunny Garden — check it."
    assert html_to_text("<p>a <i>b</i> <a href='x'>c</a>d</p>") == "a b cd"


def test_whitespace_runs_collapse_and_blank_lines_go():
    markup = "<div>\n   <p>  lots   of\n\n  space  </p>\n\n\n<p>next</p>\n</div>"
    assert html_to_text(markup) == "lots of space\nnext"


def test_entities_are_unescaped():
    assert (
        html_to_text("<p>Tom &amp; Jerry &lt;3 &quot;cheese&quot; &#8212; &eacute;</p>")
        == 'Tom & Jerry <3 "cheese" — é'
    )


def test_attributes_never_become_text():
    assert html_to_text('<p><a href="https://evil.example/x" title="hidden">shown</a></p>') == "shown"


def test_a_rendered_verification_email_reads_as_text_with_the_link_intact():
    url = "http://localhost:3000/verify?a=1&userId=u1&secret=abc&expire=2026-01-01T00%3A00%3A00.000%2B00%3A00"
    variables = {"project": "Acme & Co", "name": "Ada <Admin>", "url": url, "minutes": "60"}
    email = render_email("email-verification", "en", variables)
    assert "&amp;" in email.html  # escaped in the HTML, so the conversion has something to undo
    text = html_to_text(email.html)
    assert text.count(url) >= 1
    assert url in text.splitlines()  # the URL stands on its own line, not glued to surrounding words
    assert "&amp;" not in text
    assert "Hello Ada <Admin>," in text.splitlines()
    assert "Please confirm your email address for Acme & Co." in text
    assert email.subject not in text  # <title> is dropped
    assert "<" not in text.replace("<Admin>", "")


def test_a_rendered_sign_in_email_keeps_the_phrase_readable():
    variables = {"project": "Acme", "name": "", "code": "012345", "minutes": "10", "phrase": "Sunny Garden"}
    text = html_to_text(render_email("email-sign-in-code", "en", variables).html)
    lines = text.splitlines()
    assert "012345" in lines
    assert any(line.startswith("Security phrase: Sunny Garden — check") for line in lines)
    assert not any(line.startswith("Hello") for line in lines)  # the optional greeting went with the empty name


# --- verification.link ---------------------------------------------------------------------------

EXPIRE = "2026-11-29T18:30:00.000+00:00"


def test_link_adds_the_parameters_in_order():
    assert link("http://localhost:3000/verify", userId="u1", secret="s3cr3t", expire=EXPIRE) == (
        "http://localhost:3000/verify?userId=u1&secret=s3cr3t&expire=2026-11-29T18%3A30%3A00.000%2B00%3A00"
    )


def test_link_keeps_existing_parameters_and_the_fragment():
    built = link("https://localhost:3000/app/verify?next=%2Fhome&tab=2#section", userId="u1", secret="s")
    parts = urlsplit(built)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == (
        "https",
        "localhost:3000",
        "/app/verify",
        "section",
    )
    assert parse_qsl(parts.query) == [("next", "/home"), ("tab", "2"), ("userId", "u1"), ("secret", "s")]


def test_link_keeps_repeated_and_blank_parameters():
    query = urlsplit(link("http://localhost:3000/?a=1&a=2&empty=", userId="u1")).query
    assert parse_qsl(query, keep_blank_values=True) == [("a", "1"), ("a", "2"), ("empty", ""), ("userId", "u1")]


def test_link_replaces_a_parameter_it_sets_instead_of_duplicating_it():
    built = link("http://localhost:3000/verify?userId=attacker&x=1&secret=old", userId="u1", secret="new")
    assert parse_qs(urlsplit(built).query) == {"x": ["1"], "userId": ["u1"], "secret": ["new"]}


def test_link_encodes_the_expire_timestamp():
    built = link("http://localhost:3000/verify", expire=EXPIRE)
    assert "+" not in built and ":" not in urlsplit(built).query
    assert "expire=2026-11-29T18%3A30%3A00.000%2B00%3A00" in built
    assert parse_qs(urlsplit(built).query)["expire"] == [EXPIRE]  # a client decoding it gets the exact value


def test_link_encodes_special_characters_in_values():
    built = link("http://localhost:3000/v", secret="a&b=c#d e")
    parts = urlsplit(built)
    assert parts.fragment == ""
    assert parse_qs(parts.query) == {"secret": ["a&b=c#d e"]}


# --- AppUrl --------------------------------------------------------------------------------------

APP_URL = TypeAdapter(AppUrl)


def test_the_allowed_origins_come_from_the_test_environment():
    assert "http://localhost:3000" in settings().allowed_origins


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:3000",
        "http://localhost:3000/",
        "http://localhost:3000/verify?next=%2Fhome&x=1#top",
        "http://LOCALHOST:3000/Verify",
        "HTTP://localhost:3000/x",
    ],
)
def test_urls_on_an_allowed_origin_pass_unchanged(url):
    assert APP_URL.validate_python(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.example/verify",
        "http://localhost.evil.example:3000/",
        "http://localhost:3000.evil.example/",
        "http://localhost:3001/verify",
        "http://localhost/verify",
        "https://localhost:3000/verify",
        "ftp://localhost:3000/verify",
        "javascript:alert(1)",
        "javascript://localhost:3000/%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "http://user:pass@localhost:3000/verify",
        "http://user@localhost:3000/verify",
        "http://localhost:3000@evil.example/verify",
        "//localhost:3000/verify",
        "/verify?x=1",
        "verify",
        "",
        "http://:3000/",
        "http://localhost:3000/" + "a" * 2030,
    ],
    ids=lambda url: url[:40],
)
def test_other_urls_are_refused(url):
    with pytest.raises(ValidationError):
        APP_URL.validate_python(url)


def test_the_length_limit_is_2048():
    base = "http://localhost:3000/"
    assert APP_URL.validate_python(base + "a" * (2048 - len(base))) == base + "a" * (2048 - len(base))
    with pytest.raises(ValidationError):
        APP_URL.validate_python(base + "a" * (2049 - len(base)))


def test_the_refusal_does_not_echo_credentials():
    with pytest.raises(ValidationError) as caught:
        APP_URL.validate_python("http://user:hunter2@localhost:3000/")
    messages = [e["msg"] for e in caught.value.errors()]
    assert messages == ["Value error, URL must be an absolute http or https URL"]
    assert all("hunter2" not in m for m in messages)
