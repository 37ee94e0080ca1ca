"""The demo page (GET /__dev/demo/, local/demo/) in headless Chromium, driven by Playwright from Node
(tests/js/browser/demo.mjs): the Appwrite web SDK in a real browser signs up, verifies the email, enrols
TOTP from the QR `<img>`, turns MFA on, signs out, signs in with the TOTP challenge and reloads; then forgets
the password: asks for the recovery link, opens it, sets a new password and signs in with it, still meeting the
TOTP challenge (a reset leaves MFA on). The link waits out the address's one-email-a-minute cooldown (about 50 s).
Then, with a virtual authenticator, registers a passkey, signs in with it and uses it as the second factor.

Twice: page and API on one origin (the session cookie carries the session), and the page on another site
(`localhost` vs `127.0.0.1`: no cookie is stored, the SDK's X-Fallback-Cookies carries it). Both origins
are in the stack's AllowedOrigins. The same-origin run takes a screenshot at the QR step; set
DEMO_SCREENSHOT=docs/demo-qr.png to refresh the README's picture (by default it goes to a temporary file).

Needs Node, `make js-deps` and Debian's chromium (`make chromium`): a missing one fails, it never skips.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from local import demo
from tests.e2e.helpers import ROOT, LocalStack

JS_DIR = ROOT / "tests/js"
DRIVER = JS_DIR / "browser/demo.mjs"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))


def missing_prerequisites() -> list[str]:
    missing = []
    if shutil.which("node") is None:
        missing.append("node (install Node.js 20 or newer)")
    for package in ("appwrite", "otpauth", "playwright-core"):
        if not (JS_DIR / "node_modules" / package / "package.json").is_file():
            missing.append(f"tests/js/node_modules/{package} (run make js-deps)")
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"{CHROMIUM} (run make chromium)")
    return missing


def free_port() -> int:
    """A port free right now: AllowedOrigins must name the port before the server starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    """A local stack of its own whose AllowedOrigins are its two names; yields ``http://127.0.0.1:<port>``."""
    if missing := missing_prerequisites():
        pytest.fail("the browser suite needs: " + "; ".join(missing), pytrace=False)
    port = free_port()
    allowed = f"AllowedOrigins=http://localhost:{port},http://127.0.0.1:{port}"
    stack = LocalStack(["--port", str(port), "--parameter-overrides", allowed])
    try:
        yield stack.wait_ready().removesuffix("/v1")
    finally:
        stack.stop()


def drive(*args: str) -> None:
    """Run the Playwright driver; its output (the failed check, API traffic, browser console) is the failure."""
    result = subprocess.run(
        ["node", str(DRIVER), "--chromium", str(CHROMIUM), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    if result.returncode != 0:
        pytest.fail(f"{DRIVER.name} exited with {result.returncode}:\n{result.stdout}{result.stderr}", pytrace=False)


def test_same_origin_session_cookie(origin: str, tmp_path: Path) -> None:
    screenshot = Path(os.environ.get("DEMO_SCREENSHOT") or tmp_path / "demo-qr.png")
    drive("--page", f"{origin}/__dev/demo/", "--screenshot", str(screenshot))
    assert screenshot.read_bytes().startswith(b"\x89PNG")


def test_cross_origin_fallback_cookies(origin: str) -> None:
    page = origin.replace("127.0.0.1", "localhost")
    drive("--page", f"{page}/__dev/demo/?endpoint={origin}/v1")


def test_passkeys_on_localhost(origin: str) -> None:
    """A virtual authenticator (DevTools WebAuthn domain): the page registers a passkey, signs out, signs in with it
    on the MFA-enabled account, and completes a password sign-in's second factor with it. Served from `localhost`,
    the relying-party id: an IP address cannot be one."""
    page = origin.replace("127.0.0.1", "localhost")
    drive("--page", f"{page}/__dev/demo/", "--passkeys")


def test_demo_routes_without_a_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's own files: a redirect to the trailing slash, a 404 for anything else, and a missing SDK
    bundle says how to get it."""
    assert demo.handles("/__dev/demo") and demo.handles("/__dev/demo/app.js") and not demo.handles("/__dev/demos")
    moved = demo.response("/__dev/demo")
    assert (moved.status_code, moved.headers["Location"]) == (308, "/__dev/demo/")
    page = demo.response("/__dev/demo/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert '<script src="sdk.js">' in page.get_data(as_text=True)
    assert demo.response("/__dev/demo/../server.py").status_code == 404
    monkeypatch.setitem(demo.FILES, "sdk.js", (tmp_path / "sdk.js", "text/javascript"))
    missing = demo.response("/__dev/demo/sdk.js")
    assert (missing.status_code, missing.get_data(as_text=True)) == (404, "Not found: sdk.js: run make js-deps\n")
