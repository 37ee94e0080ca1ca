"""GET /account/sessions/oauth2/{provider}: start a social sign-in; the browser comes back with a session
cookie on `success` (an allowed app origin)."""

from authcore.http import transport
from authcore.http.app import create_app, doc, entrypoint, redirect
from authcore.http.depends import CallerInfo
from authcore.services import oauth

app = create_app()


@app.get("/account/sessions/oauth2/<provider>", responses=doc(302, None, 400, 412, 429))
def create_oauth2_session(provider: str, caller: CallerInfo, success: str | None = None, failure: str | None = None):
    event = app.event
    scopes = transport.query_list(event, "scopes")
    base = transport.public_base_url(event)
    url, binding = oauth.start(provider, oauth.SESSION_FLOW, base, caller, success, failure, scopes)
    return redirect(url, [transport.set_flow_cookie(event, binding, oauth.STATE_LIFETIME_MS // 1000)])


lambda_handler = entrypoint(app)
