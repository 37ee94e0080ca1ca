"""Bad input to every handler gets a clear 4xx in the API's error shape, never a 5xx."""

import json
import re

import pytest

from tests.conftest import FUNCTIONS

GARBAGE_BODIES = [
    "",
    "null",
    "[]",
    '"text"',
    "{",
    "{}",
    '{"email": null, "password": null, "prefs": null, "name": null, "phone": null}',
    '{"email": 1, "password": [], "prefs": "x", "name": {}, "phone": 5, "userId": true, "oldPassword": 0}',
    json.dumps({"email": "a@b.co" * 100, "password": "x" * 1000, "name": "n" * 1000, "phone": "+" + "9" * 40}),
    json.dumps({"prefs": {"deep": [[[[[[[[[[]]]]]]]]]]}, "userId": "../../etc"}),
    "\udcff",
]
GARBAGE_HEADERS = [
    {},
    {"X-Appwrite-Session": "%%%"},
    {"X-Appwrite-Session": "eyJpZCI6IDEsICJzZWNyZXQiOiBbXX0="},  # {"id": 1, "secret": []}
    {"X-Fallback-Cookies": '{"a_session_default": {"x": 1}}'},
    {"Cookie": "a_session_default=; a_session_default_legacy==="},
    {"Content-Type": "application/xml"},
]


# Reads no body and needs no session: garbage in either is ignored, so it may succeed (then its per-ip limit).
NO_INPUT = {"create_anonymous_session"}
PUBLIC_DOCUMENTS = {"get_jwks", "get_openid_configuration"}  # no body, no credential: garbage is ignored


# get_qr reads no body; its garbage query strings are in test_avatars.py. POST /account/tokens/passkey needs
# neither a body nor a session, so garbage may start a sign-in: test_garbage_never_breaks_the_passkey_sign_in_start.
@pytest.mark.parametrize(
    "name", sorted(set(FUNCTIONS) - {"cors_preflight", "get_qr", "create_passkey_token"} - PUBLIC_DOCUMENTS)
)
def test_garbage_never_breaks_a_handler(api, name):
    names = re.findall(r"\{(\w+)\+?\}", FUNCTIONS[name].routes[0][1])
    path = {n: "x" * 300 for n in names} or None
    for body in GARBAGE_BODIES:
        for headers in GARBAGE_HEADERS:
            answer = api(name, body, headers=headers, path=path)
            if name in NO_INPUT and answer.status == 201:
                continue
            assert 400 <= answer.status < 500, (name, body, headers, answer.body)
            assert set(answer.body) == {"message", "code", "type", "version"}
            assert answer.body["code"] == answer.status


@pytest.mark.parametrize("name", sorted(PUBLIC_DOCUMENTS))
def test_garbage_does_not_change_the_public_documents(api, name):
    clean = api(name).body
    for body in GARBAGE_BODIES:
        for headers in GARBAGE_HEADERS:
            answer = api(name, body, headers=headers)
            # 400 only for input no request may carry (API.md §7: a lone surrogate, a form body)
            assert answer.body == clean if answer.status == 200 else answer.status == 400, (name, body, headers)


def test_garbage_never_breaks_the_passkey_sign_in_start(api):
    """It reads nothing of the request but the source address: garbage starts a sign-in, or is refused
    before the handler (a body beyond the limits, a non-JSON content type); never a 5xx."""
    for body in GARBAGE_BODIES:
        for headers in GARBAGE_HEADERS:
            answer = api("create_passkey_token", body, headers=headers, ip=f"198.51.100.{len(body) % 250}")
            assert answer.status == 201 or 400 <= answer.status < 500, (body, headers, answer.body)
            if answer.status != 201:
                assert set(answer.body) == {"message", "code", "type", "version"}
