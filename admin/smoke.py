"""`python -m admin.smoke`: prove a stack works after `sam deploy`, by walking the MFA guide over plain HTTP.

    python -m admin.smoke --endpoint https://<api-id>.execute-api.<region>.amazonaws.com/v1 [--project ID]
                          [--origin https://app.example.com]      (and AUTHCORE_SMOKE_KEY=<users.write key>)

Signs up a throw-away user, signs in, enrols a TOTP authenticator (codes computed here with pyotp), turns MFA on,
signs out, signs in again (user_more_factors_required), finishes with a TOTP challenge, then once more with a
recovery code. It needs no email and no SMS, so neither the SES sandbox nor SmsEnabled=false matters. With a
server API key (scope users.write) it deletes the user through the Users API; without one it removes what the
user itself can (MFA, authenticator, sessions) and says which user it left. Each step is printed; a failure
says what usually causes it. Exit status: 0 when every step passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

import pyotp

KEY_VARIABLE = "AUTHCORE_SMOKE_KEY"
PASSWORD = "smoke-" + uuid.uuid4().hex  # a fresh password per run; the user lives minutes
TIMEOUT_S = 30
DOCS = "docs/deploy.md#after-the-deploy-make-smoke"


class SmokeError(Exception):
    """A step did not get the answer it needs; the message says what usually causes it."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def type(self) -> str:
        return self.body.get("type", "") if isinstance(self.body, dict) else ""

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), "")


@dataclass
class Smoke:
    endpoint: str
    project: str = ""
    origin: str = ""
    key: str = ""
    email: str = field(default_factory=lambda: f"authcore-smoke-{uuid.uuid4().hex[:12]}@example.com")
    user_id: str = ""
    session: str = ""
    recovery_codes: list[str] = field(default_factory=list)
    totp: pyotp.TOTP = field(default_factory=lambda: pyotp.TOTP(pyotp.random_base32()))  # replaced at enrolment
    last_step: int = 0  # the TOTP time step last accepted: the server never accepts it twice

    # --- plain HTTP ------------------------------------------------------------------------------------------

    def call(self, method: str, path: str, body: Any = None, *, session: bool = True, key: bool = False) -> Answer:
        headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "authcore-smoke"}
        if self.project:
            headers["X-Appwrite-Project"] = self.project
        if self.origin:
            headers["Origin"] = self.origin
        if session and self.session:
            headers["X-Appwrite-Session"] = self.session
        if key:
            headers["X-Appwrite-Key"] = self.key
        data = json.dumps(body).encode() if body is not None else None
        url = self.endpoint + path
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310  # nosec B310
                status, answer_headers, raw = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            status, answer_headers, raw = error.code, dict(error.headers), error.read()
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise SmokeError(
                f"could not reach {url}: {reason}. Use the stack's ApiUrl output "
                "(sam list stack-outputs --stack-name <stack>): https, the API id, the region, and /v1 at the end."
            ) from None
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode("utf-8", "replace")[:200]
        return Answer(status, answer_headers, parsed)

    def expect(self, answer: Answer, status: int | tuple[int, ...], type_: str = "") -> Answer:
        wanted = status if isinstance(status, tuple) else (status,)
        if answer.status not in wanted or (type_ and answer.type != type_):
            raise SmokeError(explain(answer, self))
        return answer

    def sign_in(self) -> None:
        answer = self.expect(
            self.call("POST", "/account/sessions/email", {"email": self.email, "password": PASSWORD}, session=False),
            201,
        )
        # The credential is in the session cookie and, for clients without cookies, in X-Fallback-Cookies.
        stored = json.loads(answer.header("X-Fallback-Cookies") or "{}")
        if len(stored) != 1:
            raise SmokeError(f"the sign-in answer carries no session credential (X-Fallback-Cookies: {stored}).")
        self.session = next(iter(stored.values()))

    def sign_out(self) -> None:
        self.expect(self.call("DELETE", "/account/sessions/current"), 204)
        self.session = ""

    def sign_in_halfway(self) -> None:
        """A password sign-in of a user with MFA on: the session waits for a second factor."""
        self.sign_in()
        self.expect(self.call("GET", "/account"), 401, "user_more_factors_required")

    def next_totp_code(self) -> str:
        """A code for a time step later than the last one accepted (the server allows one step of clock skew)."""
        step = max(int(time.time()) // 30, self.last_step + 1)
        self.last_step = step
        return self.totp.at(step * 30)

    def complete_challenge(self, factor: str, otp: str) -> None:
        challenge = self.expect(self.call("POST", "/account/mfa/challenge", {"factor": factor}), 201)
        self.expect(self.call("PUT", "/account/mfa/challenge", {"challengeId": challenge.body["$id"], "otp": otp}), 200)
        self.expect(self.call("GET", "/account"), 200)

    # --- the guide ---------------------------------------------------------------------------------------------

    def check_endpoint(self) -> str:
        answer = self.expect(self.call("GET", "/account", session=False), 401, "general_unauthorized_scope")
        if self.origin and answer.header("Access-Control-Allow-Origin") != self.origin:
            raise SmokeError(
                f"the API does not allow the origin {self.origin}: browsers on it get CORS errors. Add it to the "
                "AllowedOrigins parameter, keeping the origins you have (make deploy GUIDED=1 asks for them; "
                "samconfig.toml keeps them in parameter_overrides), and deploy again."
            )
        if self.key:  # before a user exists: a bad key must not leave one behind
            self.expect(self.call("DELETE", f"/users/{uuid.uuid4().hex[:20]}", session=False, key=True), 404)
        allowed = f", allows the origin {self.origin}" if self.origin else ""
        key = ", the key may delete users" if self.key else ""
        return f"answers with the API's own error shape{allowed}{key}"

    def sign_up(self) -> str:
        body = {"userId": "unique()", "email": self.email, "password": PASSWORD, "name": "authcore smoke test"}
        answer = self.expect(self.call("POST", "/account", body, session=False), 201)
        self.user_id = answer.body["$id"]
        return f"user {self.user_id} ({self.email})"

    def first_sign_in(self) -> str:
        self.sign_in()
        self.expect(self.call("GET", "/account"), 200)
        return "password session; GET /account answers 200"

    def enrol_totp(self) -> str:
        codes = self.expect(self.call("POST", "/account/mfa/recovery-codes", {}), 201)
        self.recovery_codes = codes.body["recoveryCodes"]
        created = self.expect(self.call("POST", "/account/mfa/authenticators/totp", {}), 200)
        self.totp = pyotp.TOTP(created.body["secret"])
        self.expect(self.call("PUT", "/account/mfa/authenticators/totp", {"otp": self.next_totp_code()}), 200)
        return f"{len(self.recovery_codes)} recovery codes; authenticator verified with a code computed here"

    def mfa_on(self) -> str:
        answer = self.expect(self.call("PATCH", "/account/mfa", {"mfa": True}), 200)
        if answer.body.get("mfa") is not True:
            raise SmokeError(f"PATCH /account/mfa answered without mfa: true ({answer.body}).")
        self.sign_out()
        return "MFA on; signed out"

    def sign_in_with_totp(self) -> str:
        self.sign_in_halfway()
        factors = self.expect(self.call("GET", "/account/mfa/factors"), 200).body
        if not (factors.get("totp") and factors.get("recoveryCode")):
            raise SmokeError(f"GET /account/mfa/factors should offer totp and recoveryCode: {factors}.")
        self.complete_challenge("totp", self.next_totp_code())
        self.sign_out()
        return "user_more_factors_required, then a TOTP challenge completed the sign-in; signed out"

    def sign_in_with_recovery_code(self) -> str:
        self.sign_in_halfway()
        self.complete_challenge("recoverycode", self.recovery_codes[0])
        return "user_more_factors_required, then a recovery code completed the sign-in"

    def jwt_verified_elsewhere(self) -> str:
        """What another team's API does with our JWTs: discovery at the issuer, its keys, the signature; the
        discovery must be publicly reachable at <issuer>/.well-known/openid-configuration (docs/jwt.md)."""
        from joserfc import jwk, jwt
        from joserfc.errors import JoseError

        token = self.expect(self.call("POST", "/account/jwts", {"duration": 60}), 201).body["jwt"]
        issuer = self.expect(self.call("GET", "/.well-known/openid-configuration", session=False), 200).body["issuer"]
        try:
            discovery = _get_json(f"{issuer}/.well-known/openid-configuration")
            keys = jwk.KeySet.import_key_set(_get_json(discovery["jwks_uri"]))
            claims = jwt.decode(token, keys, algorithms=["RS256"]).claims
            jwt.JWTClaimsRegistry(iss={"essential": True, "value": issuer}).validate(claims)
        except (OSError, ValueError, KeyError, JoseError) as error:
            raise SmokeError(
                f"the JWT does not verify from {issuer}/.well-known/openid-configuration ({type(error).__name__}). "
                "Other APIs could not trust it: check the JwtIssuer parameter (docs/jwt.md)."
            ) from None
        if "mfa" not in claims.get("amr", []):
            raise SmokeError(f"the JWT of a session with two factors should carry amr 'mfa': {claims.get('amr')}")
        return f"verified from {issuer}/.well-known/openid-configuration alone; amr {claims['amr']}"

    def clean_up(self) -> str:
        """Delete the user with the key; else remove what the user may (the session just completed a challenge)."""
        if self.key:
            self.expect(self.call("DELETE", f"/users/{self.user_id}", session=False, key=True), 204)
            self.session = ""
            gone = self.call("POST", "/account/sessions/email", {"email": self.email, "password": PASSWORD})
            self.expect(gone, 401, "user_invalid_credentials")
            return f"user {self.user_id} deleted through the Users API; signing in now fails"
        self.expect(self.call("PATCH", "/account/mfa", {"mfa": False}), 200)
        self.expect(self.call("DELETE", "/account/mfa/authenticators/totp"), 204)
        self.expect(self.call("DELETE", "/account/sessions"), 204)
        self.session = ""
        return (
            f"no key given: MFA off, authenticator and sessions removed, but the user {self.user_id} ({self.email}) "
            "is LEFT in the table. Delete it with a users.write key: make smoke ... KEY=<key>, or "
            f"DELETE /users/{self.user_id} with X-Appwrite-Key (make key ... SCOPES=users.write)"
        )

    def steps(self) -> list[tuple[str, Any]]:
        return [
            ("reach the API", self.check_endpoint),
            ("sign up", self.sign_up),
            ("sign in with the password", self.first_sign_in),
            ("recovery codes and a TOTP authenticator", self.enrol_totp),
            ("turn MFA on, sign out", self.mfa_on),
            ("sign in again, challenge totp", self.sign_in_with_totp),
            ("sign in again, challenge recoverycode", self.sign_in_with_recovery_code),
            ("a JWT another API verifies alone", self.jwt_verified_elsewhere),
            ("clean up", self.clean_up),
        ]

    def run(self, out: Any = sys.stdout) -> bool:
        print(f"Smoke test of {self.endpoint} (no email or SMS needed)", file=out)
        for number, (title, step) in enumerate(self.steps(), start=1):
            try:
                detail = step()
            except SmokeError as failure:
                print(f"{number}. {title}: FAILED\n   {failure}", file=out)
                if self.user_id and self.key and title != "clean up":
                    self._delete_after_failure(out)
                elif self.user_id:
                    print(f"   The test user {self.user_id} ({self.email}) is left in the table.", file=out)
                print(f"See {DOCS}", file=out)
                return False
            print(f"{number}. {title}: ok ({detail})", file=out)
        print("The stack works: sign-up, sign-in, TOTP and recovery-code MFA, JWTs.", file=out)
        return True

    def _delete_after_failure(self, out: Any) -> None:
        try:
            answer = self.call("DELETE", f"/users/{self.user_id}", session=False, key=True)
            state = "deleted" if answer.status == 204 else f"NOT deleted ({explain(answer, self)})"
        except SmokeError as failure:
            state = f"NOT deleted ({failure})"
        print(f"   The test user {self.user_id} was {state}.", file=out)


def _get_json(url: str) -> Any:
    """A public GET, as another API's authorizer makes it (no project, no credential)."""
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310  # nosec B310
        return json.loads(response.read())


def explain(answer: Answer, smoke: Smoke) -> str:
    """What an unexpected answer usually means after a deploy."""
    got = f"{answer.status} {answer.type or answer.body}"
    if answer.status == 403 and not answer.type:
        return (
            f"{got}: refused before any function ran. API Gateway answers 403 Forbidden for a wrong stage or path "
            "(the ApiUrl output ends in /v1) and AWS WAF for a blocked IP (over WafRequestsPer5Minutes, or on "
            "Amazon's IP reputation list: docs/operations.md, 429/403 troubleshooting)."
        )
    if answer.type == "general_route_not_found":
        return f"{got}: no such route. The endpoint must be the ApiUrl output, ending in /v1 (it was {smoke.endpoint})."
    if answer.type == "project_not_found":
        return f"{got}: PROJECT={smoke.project} is not the stack's ProjectId parameter. Leave PROJECT out or fix it."
    if answer.status == 429:
        return (
            f"{got}: rate limited (sign-up allows 10 per IP per hour; API Gateway throttling and WAF count too). "
            f"Try again after X-RateLimit-Reset ({answer.header('X-RateLimit-Reset') or 'not sent'})."
        )
    if answer.type in ("general_smtp_disabled", "general_phone_disabled"):
        return f"{got}: email or SMS is off (SES sandbox / SmsEnabled); the smoke test should not need either."
    if answer.type == "user_invalid_token":
        return f"{got}: the TOTP code was refused. This machine's clock must be within 30 seconds of the real time."
    if answer.type == "general_unauthorized_scope" and "key" in str(answer.body).lower():
        return f"{got}: the key is invalid, expired, revoked or lacks the scope users.write (python -m admin.keys)."
    if answer.status >= 500:
        return (
            f"{got}: the server failed. Look in the stack's LogGroup output for the request "
            "(docs/operations.md, 5xx runbook); 502/504 without a type is a Lambda crash or timeout."
        )
    return f"unexpected answer {got}."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m admin.smoke", description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True, help="the stack's ApiUrl output, ending in /v1")
    parser.add_argument("--project", default="", help="the ProjectId parameter (default: not sent)")
    parser.add_argument("--origin", default="", help="also check that this browser origin gets a CORS grant")
    args = parser.parse_args(argv)
    smoke = Smoke(args.endpoint.rstrip("/"), args.project, args.origin.rstrip("/"), os.environ.get(KEY_VARIABLE, ""))
    return 0 if smoke.run() else 1


if __name__ == "__main__":
    sys.exit(main())
