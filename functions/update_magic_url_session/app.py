"""PUT /account/sessions/magic-url: sign in with a sign-in link's secret. Deprecated in the SDKs: the same as POST
/account/sessions/token (the same service call), kept for apps written against older SDKs."""

from authcore.http.app import create_app, doc, entrypoint, signed_in
from authcore.http.depends import CallerInfo, SsrKey
from authcore.models.requests import TokenSession
from authcore.models.responses import Session
from authcore.services import otp

app = create_app()


@app.put("/account/sessions/magic-url", responses=doc(201, Session, 400, 401, 429))
def update_magic_url_session(body: TokenSession, caller: CallerInfo, key: SsrKey):
    new = otp.create_session(body, caller)
    return signed_in(app.event, new.session, new.credential, new.expire, reveal=key is not None)


lambda_handler = entrypoint(app)
