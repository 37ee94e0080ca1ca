"""Property-based fuzzing (schemathesis) of every operation in docs/openapi.json against a local stack of
this module's own (real HTTP, rate limits spent on purpose), once without a session and once with a valid one;
then the input classes of API.md §7 (deep nesting, long numbers, lone surrogates, NUL, junk credentials and
X-Fallback-Cookies, junk path and query parameters) to every operation, signed in and with a Users API key.

Every generated request must get an answer that is not a 5xx and that the document describes: a documented
status code, its content type and its body schema. Rate limits (API.md §5) trip along the way, so their 429s
must be documented too. Generation is bounded (`MAX_EXAMPLES` fuzzed requests per operation and run, plus
schemathesis' deterministic coverage cases) and derandomized, so every CI run sends the same requests.

Two workarounds for schemathesis 4.32 on pytest 9.2: the schemas are loaded at import and given the server's URL
per call, since the fixture-based loader (`schemathesis.pytest.from_fixture`) sets `Node._nodeid`, which pytest 9.2
no longer has; and each test also takes a one-value `run` parameter, since pytest 9.2 builds a node id from the
function name and its parameters only, so without one every operation's item would get the same id and
pytest-xdist (`make test`) would run one operation per test.
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import FUNCTIONS
from tests.e2e.helpers import (
    COOKIE,
    ERROR_KEYS,
    PROJECT,
    ROOT,
    TIMEOUT,
    LocalStack,
    User,
    assert_error,
    make_user,
    request,
    sign_in,
)

DOCUMENT = ROOT / "docs" / "openapi.json"
MAX_EXAMPLES = 10
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SESSION_HEADER = "X-Appwrite-Session"
# (run, "METHOD /path") -> status codes answered, for the guard test after the two runs.
ANSWERED: dict[tuple[str, str], Counter[int]] = {}


def _schema(*phases: str) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_path(DOCUMENT)
    schema.config.phases.update(phases=list(phases))
    schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, database="none")
    # A generated project id names another project, answered 404 before anything else (tests/e2e/test_errors.py and
    # the integration tests cover that): every request names this deployment's project, to reach the handlers.
    schema.config.update(
        parameters={"header.X-Appwrite-Project": PROJECT, "header.X-Nuvix-Project": PROJECT, "query.project": PROJECT}
    )
    return schema


# Request validation answers before the session check, so the deterministic coverage cases (boundary and
# invalid values of every parameter and body field, undeclared methods and content types) are sent once, in the
# session run, where the valid ones also get past the session check. The anonymous run fuzzes every operation
# with random and invalid credentials.
anonymous = _schema("fuzzing")
with_session = _schema("coverage", "fuzzing")
# The run's own credential must be the one the server reads, not a generated cookie it reads first.
with_session.config.generation.update(with_security_parameters=False)


def _fuzz(run: str, case: schemathesis.Case, base_url: str, headers: dict[str, str]) -> requests.Response:
    response = case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)
    ANSWERED.setdefault((run, case.operation.label), Counter())[response.status_code] += 1
    return response


@pytest.fixture(scope="module")
def keyed_stack() -> Iterator[tuple[str, str]]:
    """A local stack of this module's own, started with a Users API key of every scope."""
    server = LocalStack(["--port", "0", "--api-key", "fuzz:users.read,users.write,sessions.write"])
    try:
        base = server.wait_ready()
        yield base, next(line.partition(": ")[2] for line in server.lines if line.startswith("API key fuzz"))
    finally:
        server.stop()


@pytest.fixture(scope="module")
def fresh_server(keyed_stack: tuple[str, str]) -> str:
    return keyed_stack[0]


@pytest.fixture(scope="module")
def server_key(keyed_stack: tuple[str, str]) -> dict[str, str]:
    """Only the §7 run sends it: the schemathesis runs do not reach past the Users API's key check."""
    return {"X-Appwrite-Key": keyed_stack[1]}


@pytest.fixture(scope="module")
def fuzz_user(fresh_server: str) -> User:
    """The account of the session run, signed up before the fuzzing spends the IP's sign-up budget."""
    return make_user(fresh_server, name="Fuzz")


@anonymous.parametrize()
@pytest.mark.parametrize("run", ["anonymous"])
def test_without_session(case: schemathesis.Case, run: str, fresh_server: str, fuzz_user: User) -> None:
    """(`fuzz_user` only so that it signs up first.)"""
    _fuzz(run, case, fresh_server, {})


def _after(method: str, path: str, status: int, base: str, user: User, key: dict[str, str]) -> None:
    """What a case did to the session run's user: a sign-out may have ended its session, and a self-block (issue 17)
    ended every one and blocked the user, whom the operator's key unblocks. The next case signs in again."""
    if method == "DELETE" and path.startswith("/account/sessions") and status == 204:
        user.credential = ""
    if method == "PATCH" and path == "/account/status" and status == 200:
        unblocked = request("PATCH", base, f"/users/{user.id}/status", {"status": True}, key)
        assert unblocked.status_code == 200, unblocked.text
        user.credential = ""


@with_session.parametrize()
@pytest.mark.parametrize("run", ["session"])
def test_with_session(
    case: schemathesis.Case, run: str, fresh_server: str, fuzz_user: User, server_key: dict[str, str]
) -> None:
    """The credential goes in `X-Appwrite-Session`. Of what the fuzzing can change, a sign-out or a self-block ends
    it (`_after`); then the next case signs in again. MFA can be turned on, but with no verified second factor the
    session keeps passing the gate (API.md §4.1); everything else needs a code or the password, which the fuzzer
    does not have."""
    if not fuzz_user.credential:
        fuzz_user.credential = sign_in(fresh_server, fuzz_user.email, fuzz_user.password)
    response = _fuzz(run, case, fresh_server, {SESSION_HEADER: fuzz_user.credential})
    _after(case.method, case.path, response.status_code, fresh_server, fuzz_user, server_key)


def test_both_runs_reached_every_operation_and_the_session_was_honoured() -> None:
    """Guards the fuzzing itself: no operation was left out, and the session run was really signed in."""
    operations = {result.ok().label for result in anonymous.get_all_operations()}
    for run in ("anonymous", "session"):
        assert {label for answered_run, label in ANSWERED if answered_run == run} == operations, run
    assert ANSWERED[("session", "GET /account")][200] > 0
    assert ANSWERED[("anonymous", "GET /account")][200] == 0


# --- the input classes of API.md §7, sent to every operation -----------------------------------------------------

DEEP = "[" * 1000 + "]" * 1000  # past Python's recursion limit
HUGE = "9" * 4400  # past Python's int max str digits
JUNK_BODIES = [
    '{"userId":' + DEEP + "}",
    "{" * 33 + "}" * 33,
    '{"userId":' + HUGE + "}",
    '{"duration":' + "1" * 21 + "}",
    '{"duration":1e999}',
    '{"name":"\\ud800"}',
    '{"\\udfff":"x"}',
    '{"email":"a\\u0000@example.com","prefs":{"k":"\\u0000"}}',
]
JUNK_CREDENTIALS = [
    {"X-Appwrite-Session": base64.b64encode(DEEP.encode()).decode()},
    {"X-Appwrite-Session": base64.b64encode(('{"id":' + DEEP + ',"secret":"s"}').encode()).decode()},
    {"X-Appwrite-Session": base64.b64encode(('{"id":' + HUGE + ',"secret":"s"}').encode()).decode()},
    {"X-Appwrite-Session": base64.b64encode(b'{"id":"\\ud800","secret":"\\u0000"}').decode()},
    {"X-Fallback-Cookies": '{"' + COOKIE + '":' + DEEP + "}"},
    {"X-Fallback-Cookies": '{"' + COOKIE + '":' + HUGE + "}"},
    {"X-Fallback-Cookies": DEEP},
    {"Cookie": f"{COOKIE}={base64.b64encode(DEEP.encode()).decode()}"},
]
# Path values: junk (NUL) and odd but legal ones (the UTF-8 bytes of a lone surrogate, which decoders replace).
JUNK_PATH_VALUE = "a%00b"
ODD_PATH_VALUES = ["%ED%A0%80", "%C3%A9%F0%9D%92%B3", "..%2F..%2Fusers", "x" * 1000, "%20", "%E2%80%AE", "unique()"]
JUNK_QUERIES = ["%00=1", "search=%00", "queries%5B%5D=%00"]
ODD_QUERIES = [
    "queries%5B%5D=" + "%5B" * 1000,
    "queries%5B%5D=" + HUGE,
    "queries%5B%5D=1&queries%5B%5D=%7B%7D&queries%5B0%5D=%5B%5D",
    "search=a&search=b&search",
    "search=" + "x" * 10_000,
]
PATH_PARAMETER = re.compile(r"\{(\w+)\}")
JSON_TYPE = {"Content-Type": "application/json"}
DOCUMENTED = {
    (method.upper(), path): {int(status) for status in operation["responses"]}
    for path, operations in json.loads(DOCUMENT.read_text())["paths"].items()
    for method, operation in operations.items()
}
SAMPLE_BODIES = {route: function.name for function in FUNCTIONS.values() for route in function.routes}


def _sample_body(method: str, path: str) -> bytes:
    """The body of the operation's events/ sample: valid, so a request gets past body validation to the credential."""
    event = json.loads((ROOT / "events" / f"{SAMPLE_BODIES[(method, path)]}.json").read_text())
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()


def _documented_answer(method: str, path: str, response: requests.Response) -> int:
    """The answer is no 5xx, documented for the operation, and (as an error) in the API's error shape."""
    assert response.status_code < 500, (method, path, response.status_code, response.text[:300])
    assert response.status_code in DOCUMENTED[(method, path)], (method, path, response.status_code, response.text)
    if response.status_code >= 400:
        assert set(response.json()) == ERROR_KEYS, response.text
    return response.status_code


@pytest.mark.parametrize(("method", "path"), sorted(DOCUMENTED), ids=[f"{m} {p}" for m, p in sorted(DOCUMENTED)])
def test_input_beyond_the_limits(
    method: str, path: str, fresh_server: str, fuzz_user: User, server_key: dict[str, str]
) -> None:
    """Junk bodies (deep nesting, long numbers, lone surrogates, NUL) are a 400 in every operation; junk credentials
    and X-Fallback-Cookies are no credential (the sample's valid body goes along); junk path and query parameters are
    a 400; odd but legal path values never break an operation. Signed in, with a Users API key."""
    if not fuzz_user.credential:
        fuzz_user.credential = sign_in(fresh_server, fuzz_user.email, fuzz_user.password)
    signed_in = {SESSION_HEADER: fuzz_user.credential, **server_key}
    url = fresh_server + PATH_PARAMETER.sub("x", path)
    with requests.Session() as http:

        def send(target: str, body: bytes | str | None, headers: dict[str, str]) -> int:
            response = http.request(method, target, data=body, headers={**JSON_TYPE, **headers}, timeout=TIMEOUT)
            status = _documented_answer(method, path, response)
            _after(method, path, status, fresh_server, fuzz_user, server_key)
            if not fuzz_user.credential:
                fuzz_user.credential = sign_in(fresh_server, fuzz_user.email, fuzz_user.password)
                signed_in[SESSION_HEADER] = fuzz_user.credential
            return status

        for body in JUNK_BODIES:
            assert send(url, body, signed_in) == 400, body[:80]
        for headers in JUNK_CREDENTIALS:
            send(url, _sample_body(method, path), headers)
        for query in JUNK_QUERIES:
            assert send(f"{url}?{query}", None, signed_in) == 400, query
        for query in ODD_QUERIES:
            send(f"{url}?{query}", None, signed_in)
        for name in PATH_PARAMETER.findall(path):
            for value in (JUNK_PATH_VALUE, *ODD_PATH_VALUES):
                target = fresh_server + PATH_PARAMETER.sub(
                    lambda m, n=name, v=value: v if m.group(1) == n else "x", path
                )
                status = send(target, None, signed_in)
                assert status == 400 or value != JUNK_PATH_VALUE, (target, status)


# --- bugs the fuzzing found (fixed) -----------------------------------------------------------------------------


def test_multipart_content_type_without_boundary_is_a_400(fresh_server: str) -> None:
    response = requests.post(
        f"{fresh_server}/account/sessions/email",
        data='{"email": "a@example.com", "password": "correct horse battery"}',
        headers={"Content-Type": "multipart/form-data"},
        timeout=TIMEOUT,
    )
    assert_error(response, 400, "general_argument_invalid")


def test_signing_out_everywhere_else_with_no_other_session_is_a_204(fresh_server: str, fuzz_user: User) -> None:
    sign_in(fresh_server, fuzz_user.email, fuzz_user.password)  # another session, for the first call to end
    headers = {SESSION_HEADER: sign_in(fresh_server, fuzz_user.email, fuzz_user.password)}
    assert request("DELETE", fresh_server, "/account/sessions", {"current": False}, headers).status_code == 204
    # now the caller's session is its only one: ending "every other" session ends none
    response = request("DELETE", fresh_server, "/account/sessions", {"current": False}, headers)
    assert response.status_code == 204, response.text
    assert request("GET", fresh_server, "/account", headers=headers).status_code == 200
