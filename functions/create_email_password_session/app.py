"""POST /account/sessions/email (alias POST /account/sessions): sign in with email and password."""

from authcore.http.app import create_app, doc, entrypoint, signed_in
from authcore.http.depends import CallerInfo, SsrKey
from authcore.models.requests import EmailPasswordSession
from authcore.models.responses import Session
from authcore.services import sessions

app = create_app()


@app.post("/account/sessions", responses=doc(201, Session, 400, 401, 429))
@app.post("/account/sessions/email", responses=doc(201, Session, 400, 401, 429))
def create_email_password_session(body: EmailPasswordSession, caller: CallerInfo, key: SsrKey):
    new = sessions.create_email_password_session(body, caller)
    return signed_in(app.event, new.session, new.credential, new.expire, reveal=key is not None)


lambda_handler = entrypoint(app)
