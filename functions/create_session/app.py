"""POST /account/sessions/token: sign in with a one-time code from email or SMS."""

from authcore.http.app import create_app, doc, entrypoint, signed_in
from authcore.http.depends import CallerInfo, SsrKey
from authcore.models.requests import TokenSession
from authcore.models.responses import Session
from authcore.services import otp

app = create_app()


@app.post("/account/sessions/token", responses=doc(201, Session, 400, 401, 429))
def create_session(body: TokenSession, caller: CallerInfo, key: SsrKey):
    new = otp.create_session(body, caller)
    return signed_in(app.event, new.session, new.credential, new.expire, reveal=key is not None)


lambda_handler = entrypoint(app)
