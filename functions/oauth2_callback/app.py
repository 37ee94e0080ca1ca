"""GET|POST /account/sessions/oauth2/callback/{provider}/{projectId}: the provider sends the browser back
here (Sign in with Apple posts a form); the flow its state names ends with a redirect to the app."""

import base64
from urllib.parse import parse_qsl

from authcore.config import settings
from authcore.errors import ApiError
from authcore.http import transport
from authcore.http.app import create_app, doc, entrypoint, redirect
from authcore.http.depends import CallerInfo
from authcore.http.router import Response
from authcore.services import oauth

app = create_app()
PATH = "/account/sessions/oauth2/callback/<provider>/<projectId>"
SIGNED_IN = "Signed in. You may close this window."


def _params() -> dict[str, str]:
    event = app.event
    params = dict(event.get("queryStringParameters") or {})
    body = event.get("body") or ""
    if body:
        raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
        params.update(parse_qsl(raw.decode("utf-8", "replace"), max_num_fields=32))
    return params


def _finish(provider: str, projectId: str, caller):
    if projectId != settings().project_id:
        raise ApiError("project_not_found")
    event = app.event
    outcome = oauth.callback(provider, _params(), transport.flow_cookie(event), caller)
    if outcome.error:
        raise outcome.error
    cookies = [transport.set_flow_cookie(event, "", 0)]  # the flow is over
    if outcome.session:
        cookies += transport.session_cookies(event, outcome.session.credential, outcome.session.expire)
    if not outcome.location:
        return Response(200, "text/plain; charset=utf-8", SIGNED_IN, cookies=cookies)
    return redirect(outcome.location, cookies)


@app.get(PATH, responses=doc(302, None, 400, 401, 404, 412, 424))
def oauth2_callback(provider: str, projectId: str, caller: CallerInfo):
    return _finish(provider, projectId, caller)


@app.post(PATH, responses=doc(302, None, 400, 401, 404, 412, 424))
def oauth2_callback_post(provider: str, projectId: str, caller: CallerInfo):
    return _finish(provider, projectId, caller)


lambda_handler = entrypoint(app)
