"""The providers the social sign-in tests sign in at: panva's certified `oidc-provider` (a real OpenID Connect
provider, tests/js/oidc/provider.mjs) as a subprocess, and a stand-in for GitHub's OAuth2 endpoints (GitHub
is OAuth2 without OpenID Connect: an authorize page, a token endpoint, and its user API)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import shutil
import socket
import subprocess
import threading
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests

from tests.e2e.helpers import ROOT, TIMEOUT

NODE_MODULES = ROOT / "tests" / "js" / "node_modules"
PROVIDER_SCRIPT = ROOT / "tests" / "js" / "oidc" / "provider.mjs"
PROVIDER_READY = "OIDC provider ready on "


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OidcProvider:
    """`node tests/js/oidc/provider.mjs <port> <clients>`: issuer http://localhost:<port>."""

    def __init__(self, port: int, clients: list[dict[str, Any]]) -> None:
        node = shutil.which("node")
        if node is None or not (NODE_MODULES / "oidc-provider" / "package.json").is_file():
            pytest.fail("node or tests/js/node_modules/oidc-provider missing: run make js-deps", pytrace=False)
        self.issuer = f"http://localhost:{port}"
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [node, str(PROVIDER_SCRIPT), str(port), json.dumps(clients)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        ready = threading.Event()

        def drain() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                self.lines.append(line.rstrip("\n"))
                if PROVIDER_READY in line:
                    ready.set()
            ready.set()

        threading.Thread(target=drain, daemon=True).start()
        ready.wait(30)
        if self.process.poll() is not None or not any(PROVIDER_READY in line for line in self.lines):
            self.stop()
            pytest.fail("the OIDC provider did not start:\n" + "\n".join(self.lines), pytrace=False)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class _Forms(HTMLParser):
    """The forms of a page: (action, method, {name: value}) each."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((values.get("action", ""), values.get("method", "get").lower(), {}))
        elif tag == "input" and self.forms and values.get("name"):
            self.forms[-1][2][values["name"]] = values.get("value", "")


def sign_in_at_provider(session: requests.Session, url: str, login: str, stop_at: str) -> str:
    """Follow the browser's way from `url` through the provider's login and consent forms (submitting `login`),
    until a redirect reaches a URL starting with `stop_at` (our callback): that URL, not followed."""
    method, data = "get", None
    for _ in range(20):
        response = session.request(method, url, data=data, allow_redirects=False, timeout=TIMEOUT)
        if response.is_redirect:
            url, method, data = urljoin(url, response.headers["Location"]), "get", None
            if url.startswith(stop_at):
                return url
            continue
        assert response.status_code == 200, (response.status_code, response.text[:500])
        parser = _Forms()
        parser.feed(response.text)
        assert parser.forms, response.text[:500]
        action, method, fields = parser.forms[0]
        if "login" in fields:
            fields.update(login=login, password="any")
        url, data = urljoin(url, action), fields
    raise AssertionError("the provider never redirected back")


def authorization_code_for(issuer: str, client_id: str, client_secret: str, redirect_uri: str, login: str, nonce: str):
    """What a native app does: sign in at the provider itself and exchange the code. Returns the token response."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": "openid email profile",
        "state": secrets.token_urlsafe(16),
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    session = requests.Session()
    back = sign_in_at_provider(session, f"{issuer}/auth?{urlencode(query)}", login, redirect_uri)
    code = parse_qs(urlsplit(back).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    response = requests.post(f"{issuer}/token", data=form, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


class FakeGitHub(ThreadingHTTPServer):
    """GitHub's OAuth2 endpoints (authorize, access_token with PKCE, /user, /user/emails) for one client.
    `user` and `emails` are who signs in next; each code works once."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        super().__init__(("127.0.0.1", 0), _GitHubHandler)
        self.client_id, self.client_secret = client_id, client_secret
        self.user: dict[str, Any] = {"id": 1, "login": "octocat", "name": "Octo Cat"}
        self.emails: list[dict[str, Any]] = []
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _GitHubHandler(BaseHTTPRequestHandler):
    server: FakeGitHub

    def log_message(self, *args: Any) -> None:
        pass

    def _json(self, status: int, body: Any) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/login/oauth/authorize":
            if query.get("client_id") != self.server.client_id or query.get("code_challenge_method") != "S256":
                return self._json(400, {"error": "bad request"})
            code = secrets.token_hex(10)
            self.server.codes[code] = {
                "challenge": query["code_challenge"],
                "redirect_uri": query["redirect_uri"],
                "who": (dict(self.server.user), list(self.server.emails)),
            }
            target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
            self.send_response(302)
            self.send_header("Location", target)
            self.end_headers()
            return None
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.server.tokens:
            return self._json(401, {"message": "Bad credentials"})
        user, emails = self.server.tokens[token]
        if parts.path == "/user":
            return self._json(200, user)
        if parts.path == "/user/emails":
            return self._json(200, emails)
        return self._json(404, {"message": "Not Found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if self.path != "/login/oauth/access_token":
            return self._json(404, {"message": "Not Found"})
        grant = self.server.codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (
            form.get("client_id") != self.server.client_id
            or form.get("client_secret") != self.server.client_secret
            or grant is None
            or grant["challenge"] != challenge
            or grant["redirect_uri"] != form.get("redirect_uri")
        ):
            return self._json(200, {"error": "bad_verification_code"})  # GitHub answers errors with 200
        token = f"gho_{secrets.token_hex(16)}"
        self.server.tokens[token] = grant["who"]
        return self._json(200, {"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"})
