"""Logs and metrics as the functions write them to stdout: one JSON line per request, EMF metric lines
(docs/operations.md lists the names and dimensions asserted here)."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import pytest

from authcore.delivery import aws as delivery_aws
from authcore.observability import REDACTED, RedactingFormatter, logger, redact
from authcore.services.codes import BURN_AFTER, FREE_FAILURES
from tests.integration.mfa_fixtures import (
    assert_error,
    challenge,
    complete,
    enrol_totp,
    sign_up_and_in,
    verify_email,
)


@pytest.fixture
def stdout(capsys, monkeypatch):
    """stdout as the functions write it, at the deployed log level: EMF lines are printed; the Logger's
    handler kept the stream it was created with, so it writes to whatever sys.stdout is at the time."""

    class CurrentStdout:
        def write(self, text: str) -> None:
            sys.stdout.write(text)

        def flush(self) -> None:
            sys.stdout.flush()

    monkeypatch.setattr(logger.registered_handler, "stream", CurrentStdout())
    level = logger.log_level
    logger.setLevel("INFO")  # as deployed (tests/conftest.py quiets the suite to WARNING)
    yield capsys
    logger.setLevel(level)


def lines(stdout) -> list[dict[str, Any]]:
    """Every JSON line written to stdout since the last call."""
    out = stdout.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def metrics(captured: list[dict[str, Any]]) -> list[tuple[str, dict[str, str]]]:
    """(name, dimensions) of every EMF line."""
    found = []
    for line in captured:
        if "_aws" not in line:
            continue
        [directive] = line["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Authcore/local"  # Authcore/<stack name>, as template.yaml sets it
        dimensions = {name: line[name] for name in directive["Dimensions"][0]}
        found.extend((metric["Name"], dimensions) for metric in directive["Metrics"])
    return found


def requests(captured: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in captured if line.get("message") == "request"]


def names(captured: list[dict[str, Any]]) -> list[str]:
    return [name for name, _ in metrics(captured)]


def test_each_request_logs_one_line_with_route_status_and_correlation_id(api, stdout):
    stdout.readouterr()
    api.sign_up()
    [line] = requests(lines(stdout))
    assert line["route"] == "POST /account"
    assert line["status"] == 201
    assert line["level"] == "INFO"
    assert line["correlation_id"] == "2b849e2b-b0d7-1673-1e93-fb0d9a41dda3"  # events/create_account.json
    assert line["function_name"]
    assert "errorType" not in line


def test_the_request_line_names_the_user_and_the_error_type(api, stdout):
    ada = sign_up_and_in(api)
    stdout.readouterr()
    api("get_account", session=ada.credential)
    api("create_email_password_session", {"email": "ada@example.com", "password": "wrong password!"})
    ok, refused = requests(lines(stdout))
    assert ok["userId"] == ada.user_id and ok["status"] == 200
    assert refused["errorType"] == "user_invalid_credentials" and refused["status"] == 401
    assert "userId" not in refused  # state is cleared between invocations


def test_sign_ins_are_counted_by_outcome_and_method(api, stdout):
    api.sign_up()
    stdout.readouterr()
    api.sign_in()
    api.sign_in(password="not the password")
    assert metrics(lines(stdout)) == [
        ("SignInSucceeded", {"method": "password", "service": "local"}),
        ("SignInFailed", {"method": "password", "service": "local"}),
    ]


def test_anonymous_sessions_and_link_sign_ins_are_counted(api, sent, stdout):
    """Issue 17: an anonymous session is a sign-in of its own method; a sign-in link, like a code, is `code`, also
    through the deprecated alias."""
    token = api(
        "create_magic_url_token", {"userId": "unique()", "email": "ada@example.com", "url": "http://localhost:3000/m"}
    )
    secret = sent.link("ada@example.com").split("secret=")[1].split("&")[0]
    stdout.readouterr()
    api("create_anonymous_session", {})
    api("update_magic_url_session", {"userId": token.body["userId"], "secret": "0" * 64})
    api("update_magic_url_session", {"userId": token.body["userId"], "secret": secret})
    assert metrics(lines(stdout)) == [
        ("SignInSucceeded", {"method": "anonymous", "service": "local"}),
        ("SignInFailed", {"method": "code", "service": "local"}),
        ("SignInSucceeded", {"method": "code", "service": "local"}),
    ]


def test_challenges_are_counted_by_factor_and_outcome(api, totp_clock, stdout):
    ada = sign_up_and_in(api)
    secret = enrol_totp(api, ada.credential, totp_clock)
    stdout.readouterr()
    challenge_id = challenge(api, ada.credential, "totp")
    assert complete(api, ada.credential, challenge_id, totp_clock.wrong_code(secret)).status == 401
    totp_clock.next_step()
    assert complete(api, ada.credential, challenge_id, totp_clock.code(secret)).status == 200
    counted = metrics(lines(stdout))
    assert [name for name, _ in counted] == ["ChallengeCreated", "ChallengeFailed", "ChallengeCompleted"]
    assert {dimensions["factor"] for _, dimensions in counted} == {"totp"}


def test_password_resets_are_counted_by_method(api, sent, stdout):
    ada = sign_up_and_in(api)
    api("create_recovery", {"email": "ada@example.com", "url": "http://localhost:3000/reset"})
    secret = sent.link("ada@example.com").split("secret=")[1].split("&")[0]
    stdout.readouterr()
    body = {"userId": ada.user_id, "secret": secret, "password": "a brand new password"}
    assert api("update_recovery", body).status == 200
    assert api("update_recovery", body).status == 401  # a refusal is a request line, no metric
    assert metrics(lines(stdout)) == [("PasswordReset", {"method": "link", "service": "local"})]


def test_emails_sent_and_failed_are_counted(api, sent, stdout, monkeypatch):
    ada = sign_up_and_in(api)
    stdout.readouterr()
    verify_email(api, sent, ada.credential)
    assert "EmailSent" in names(lines(stdout))

    def refuse(**_: Any) -> None:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "SendEmail")

    monkeypatch.setattr(delivery_aws.client("sesv2"), "send_email", refuse)
    other = sign_up_and_in(api, "grace@example.com")
    stdout.readouterr()
    answer = api("create_email_verification", {"url": "http://localhost:3000/verify"}, session=other.credential)
    assert answer.status == 503
    assert names(lines(stdout)) == ["EmailFailed"]


def test_each_burn_of_live_codes_is_the_attack_signal(api, sent, stdout):
    """Wrong codes without a session lock nothing; every BURN_AFTER-th burns the live codes and is counted
    as CodeLockout (what LockoutsAlarm watches)."""
    token = api("create_email_token", {"userId": "unique()", "email": "ada@example.com"})
    code = int(sent.code("ada@example.com"))
    stdout.readouterr()
    counted = []
    for n in range(1, 2 * BURN_AFTER + 1):
        answer = api("create_session", {"userId": token.body["userId"], "secret": f"{(code + n) % 10**6:06d}"})
        assert_error(answer, 401, "user_invalid_token")
        counted.append("CodeLockout" in names(lines(stdout)))
    assert counted == ([False] * (BURN_AFTER - 1) + [True]) * 2


def test_the_lockout_is_counted_from_the_tenth_consecutive_wrong_code(api, totp_clock, stdout):
    ada = sign_up_and_in(api)
    secret = enrol_totp(api, ada.credential, totp_clock)
    counted = []
    for attempt in range(FREE_FAILURES):
        if attempt % 5 == 0:  # five wrong codes burn a challenge
            challenge_id = challenge(api, ada.credential, "totp")
            stdout.readouterr()
        assert_error(
            complete(api, ada.credential, challenge_id, totp_clock.wrong_code(secret)), 401, "user_invalid_token"
        )
        counted.append(names(lines(stdout)))
    assert counted[:-1] == [["ChallengeFailed"]] * (FREE_FAILURES - 1)
    assert counted[-1] == ["ChallengeFailed", "CodeLockout"]


@pytest.mark.parametrize(
    "record",
    [
        {"password": "hunter22", "nested": [{"X-Fallback-Cookies": "{}", "otp": "123456"}]},
        {"headers": {"Cookie": "a_session_default=abc"}, "secret": "s", "Code": "1"},
    ],
)
def test_denied_keys_are_redacted_at_any_depth(record):
    flat = json.dumps(redact(record))
    for secret in ("hunter22", "123456", "a_session_default=abc", '"s"', '"1"'):
        assert secret not in flat
    assert REDACTED in flat


def test_exception_notes_are_redacted():
    error = RuntimeError("boom")
    error.add_note("password=hunter22")
    record = logging.LogRecord("authcore", logging.ERROR, __file__, 1, "unhandled error", None, None)
    record.exc_info = (RuntimeError, error, None)
    line = RedactingFormatter().format(record)
    assert "hunter22" not in line and "RuntimeError" in line


def test_a_logged_exception_keeps_its_type_and_frames_but_not_its_message():
    secret = "hunter" + "22"  # not literally in the source line the traceback quotes
    try:
        raise ValueError(f"password={secret}")
    except ValueError as error:
        text = RedactingFormatter().formatException((ValueError, error, error.__traceback__))
    assert text.startswith("ValueError\n")
    assert "test_observability.py" in text
    assert "hunter22" not in text
