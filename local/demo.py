"""GET /__dev/demo/: a demo app on the Appwrite web SDK (sign-up, email verification, TOTP, MFA sign-in).

Local stack only, never deployed. The page is plain HTML and one script (local/demo/); the SDK bundle
comes from tests/js/node_modules (installed by `make js-deps`).
"""

from __future__ import annotations

from pathlib import Path

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

PREFIX = "/__dev/demo"
PAGE_DIR = Path(__file__).resolve().parent / "demo"
SDK_PATH = PAGE_DIR.parents[1] / "tests/js/node_modules/appwrite/dist/iife/sdk.js"
FILES = {
    "": (PAGE_DIR / "index.html", "text/html"),
    "app.js": (PAGE_DIR / "app.js", "text/javascript"),
    "style.css": (PAGE_DIR / "style.css", "text/css"),
    "sdk.js": (SDK_PATH, "text/javascript"),
}


def handles(path: str) -> bool:
    return path == PREFIX or path.startswith(f"{PREFIX}/")


def response(path: str) -> Response:
    """The demo file at `path` (one of FILES), or a 404 that says what is missing."""
    if path == PREFIX:
        return redirect(f"{PREFIX}/", code=308)  # the page loads its files by relative URL
    name = path.removeprefix(f"{PREFIX}/")
    if name not in FILES:
        return Response(f"Not found: the demo serves {', '.join(f'{PREFIX}/{n}' for n in FILES)}\n", status=404)
    file, mimetype = FILES[name]
    if not file.is_file():
        hint = "run make js-deps" if name == "sdk.js" else f"{file} is missing"
        return Response(f"Not found: {file.name}: {hint}\n", status=404)
    return Response(file.read_bytes(), mimetype=mimetype, headers={"Cache-Control": "no-store"})
