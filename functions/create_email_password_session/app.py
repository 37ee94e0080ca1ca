"""POST /account/sessions/email (alias POST /account/sessions): sign in with email and password."""

from authcore.http import transport
from authcore.http.app import create_app, created, doc, entrypoint
from authcore.http.depends import CallerInfo
from authcore.models.requests import EmailPasswordSession
from authcore.models.responses import Session
from authcore.services import sessions

app = create_app()


@app.post("/account/sessions", responses=doc(201, Session, 400, 401, 429))
@app.post("/account/sessions/email", responses=doc(201, Session, 400, 401, 429))
def create_email_password_session(body: EmailPasswordSession, caller: CallerInfo):
    new = sessions.create_email_password_session(body, caller)
    event = app.current_event.raw_event
    return created(
        new.session,
        headers=transport.fallback_cookies_header(new.credential),
        cookies=transport.session_cookies(event, new.credential, new.expire),
    )


lambda_handler = entrypoint(app)
