"""What API.md §1 says about the wire: project, credential lookup, cookies, CORS headers."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from authcore.config import settings
from authcore.models import json_limits
from authcore.security.tokens import decode_credential

ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOWED_HEADERS = ", ".join(
    [
        "Accept",
        "Cache-Control",
        "Content-Type",
        "Origin",
        "Pragma",
        "Range",
        "X-Requested-With",
        "X-Fallback-Cookies",
        "X-SDK-Name",
        "X-SDK-Platform",
        "X-SDK-Language",
        "X-SDK-Version",
        *(
            f"X-{brand}-{name}"
            for brand in ("Appwrite", "Nuvix")
            for name in ("Project", "Session", "JWT", "Locale", "Response-Format", "Key", "ID", "Mode", "Timeout")
        ),
    ]
)
EXPOSED_HEADERS = ", ".join(
    ["X-Fallback-Cookies", "X-Appwrite-Session", "X-Nuvix-Session"]
    + [f"X-RateLimit-{part}" for part in ("Limit", "Remaining", "Reset")]
)


# The headers of the request being handled, by lower-case name, and the event's headers they came from.
_lowered: tuple[dict[str, Any] | None, dict[str, str]] = (None, {})


def header(event: dict[str, Any], name: str) -> str:
    """A request header by case-insensitive name ("" when absent; of names that differ only in case,
    the first). A request reads a dozen, so the lower-case names are made once per event (an event's
    headers are not changed while it is handled)."""
    global _lowered
    raw = event.get("headers") or {}
    cached = _lowered  # read once: another thread (the local stack's) may replace it meanwhile
    if cached[0] is not raw:
        lowered: dict[str, str] = {}
        for key, value in raw.items():
            lowered.setdefault(key.lower(), value or "")
        cached = _lowered = (raw, lowered)
    return cached[1].get(name.lower(), "")


def requested_project(event: dict[str, Any]) -> str:
    query = event.get("queryStringParameters") or {}
    return header(event, "X-Nuvix-Project") or header(event, "X-Appwrite-Project") or query.get("project") or ""


def project_matches(event: dict[str, Any]) -> bool:
    """A request without a project is for this deployment's project (Appwrite's Python SDK sends none)."""
    requested = requested_project(event)
    return not requested or requested == settings().project_id


def cookie_name() -> str:
    return f"a_session_{settings().project_id}"


def _cookies(event: dict[str, Any]) -> dict[str, str]:
    raw = "; ".join((event.get("multiValueHeaders") or {}).get("Cookie") or []) or header(event, "Cookie")
    jar: dict[str, str] = {}
    for part in raw.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name not in jar:
            jar[name] = value.strip().strip('"')
    return jar


def credential(event: dict[str, Any]) -> tuple[str, str] | None:
    """The session credential, looked up in API.md's order: cookies, session headers, fallback cookies.

    Cookies do not count on a state-changing request from a page of a site not in AllowedOrigins
    (CSRF: a cross-site form post carries the SameSite=None cookie, but cannot set headers).
    """
    candidates = [] if _cross_site_write(event) else _session_cookies(_cookies(event))
    candidates += [header(event, "X-Appwrite-Session"), header(event, "X-Nuvix-Session")]
    fallback = header(event, "X-Fallback-Cookies")
    if fallback:
        try:
            stored = json_limits.loads(fallback)
        except ValueError:  # not JSON, or beyond the input limits: no credential, as for any junk
            stored = None
        if isinstance(stored, dict):
            candidates.append(stored.get(cookie_name()))
    for value in candidates:
        if isinstance(value, str) and value and (decoded := decode_credential(value)):
            return decoded
    return None


def _session_cookies(jar: dict[str, str]) -> list[str | None]:
    return [jar.get(cookie_name()), jar.get(f"{cookie_name()}_legacy"), jar.get("nx_session")]


def _cross_site_write(event: dict[str, Any]) -> bool:
    """A state-changing request from a page of a foreign site: its Origin is not allowed, or it sends no
    Origin but the browser says so in `Sec-Fetch-Site` (API.md §7)."""
    if (event.get("httpMethod") or "GET").upper() in ("GET", "HEAD", "OPTIONS"):
        return False
    origin = header(event, "Origin")
    if not origin:
        return header(event, "Sec-Fetch-Site").strip().lower() == "cross-site"
    return not settings().origin_allowed(origin)


def jwt(event: dict[str, Any]) -> str:
    """The JWT a request presents as its credential (API.md §8), "" when none."""
    return (header(event, "X-Appwrite-JWT") or header(event, "X-Nuvix-JWT")).strip()


def issuer(event: dict[str, Any]) -> str:
    """The JWTs' `iss`: the configured one, else this API's base URL as API Gateway saw the request
    (its own domain name and stage, not the client's Host header)."""
    if settings().jwt_issuer:
        return settings().jwt_issuer
    context = event.get("requestContext") or {}
    scheme = "https" if is_https(event) else "http"
    return f"{scheme}://{context.get('domainName', '')}/{context.get('stage', '')}"


def api_key(event: dict[str, Any]) -> str:
    """The server API key a request presents (API.md §6), "" when none."""
    return header(event, "X-Appwrite-Key") or header(event, "X-Nuvix-Key")


def is_https(event: dict[str, Any]) -> bool:
    return header(event, "X-Forwarded-Proto").lower() != "http"


def query_list(event: dict[str, Any], name: str) -> list[str]:
    """An array query parameter as the SDKs send it: `name[0]=…&name[1]=…` (or `name[]=…`, or `name=…`), in order."""
    multi = event.get("multiValueQueryStringParameters") or {}
    pattern = re.compile(rf"^{re.escape(name)}(\[(\d*)\])?$")
    found = [(m.group(2) or "", values) for key, values in multi.items() if (m := pattern.match(key))]
    found.sort(key=lambda pair: int(pair[0]) if pair[0] else -1)
    return [value for _, values in found for value in values or ()]


def flow_cookie_name() -> str:
    return f"a_oauth2_{settings().project_id}"


def flow_cookie(event: dict[str, Any]) -> str:
    """The browser binding of a started OAuth2 flow ("" when the browser sent none)."""
    return _cookies(event).get(flow_cookie_name(), "")


def set_flow_cookie(event: dict[str, Any], value: str, max_age_seconds: int) -> Cookie:
    """Binds a started OAuth2 flow to this browser (login CSRF: a callback URL replayed in another browser
    finds no binding). SameSite=None on https: Sign in with Apple comes back by a cross-site POST."""
    secure = is_https(event)
    same_site = SameSite.NONE_MODE if secure else SameSite.LAX_MODE
    return Cookie(
        name=flow_cookie_name(),
        value=value,
        path="/",
        secure=secure,
        http_only=True,
        max_age=max_age_seconds,
        same_site=same_site,
    )


def public_base_url(event: dict[str, Any]) -> str:
    """The API's base URL as the browser sees it: scheme, host, and the stage or base path API Gateway
    took off the resource path (/v1). The base of the OAuth2 redirect URI registered with each provider."""
    path = event.get("path") or ""
    full = (event.get("requestContext") or {}).get("path") or path
    prefix = full[: len(full) - len(path)] if full.endswith(path) else ""
    scheme = "https" if is_https(event) else "http"
    return f"{scheme}://{header(event, 'Host')}{prefix}"


def session_cookies(event: dict[str, Any], value: str, expire_ms: int) -> list[Cookie]:
    """Both session cookies; Secure and SameSite=None only over https (browsers refuse them on http)."""
    secure = is_https(event)
    expires = datetime.fromtimestamp(expire_ms / 1000, tz=UTC)
    return [
        Cookie(
            name=cookie_name(),
            value=value,
            path="/",
            secure=secure,
            http_only=True,
            expires=expires,
            same_site=SameSite.NONE_MODE if secure else None,
        ),
        Cookie(name=f"{cookie_name()}_legacy", value=value, path="/", secure=secure, http_only=True, expires=expires),
    ]


def fallback_cookies_header(value: str | None) -> dict[str, str]:
    return {"X-Fallback-Cookies": json.dumps({cookie_name(): value} if value else {}, separators=(",", ":"))}


def cors_headers(event: dict[str, Any]) -> dict[str, str]:
    """Echo an allowed Origin with credentials; never `*`. Unknown origins get no CORS grant."""
    origin = header(event, "Origin").rstrip("/")
    if not settings().origin_allowed(origin):
        return {"Vary": "Origin"}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Expose-Headers": EXPOSED_HEADERS,
        "Vary": "Origin",
    }


def preflight_headers(event: dict[str, Any]) -> dict[str, str]:
    cors = cors_headers(event)
    if "Access-Control-Allow-Origin" not in cors:
        return cors
    return {
        **cors,
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": "86400",
    }


def expired_cookies(event: dict[str, Any]) -> list[Cookie]:
    """Both session cookies, emptied and already expired."""
    return session_cookies(event, "", 0)
