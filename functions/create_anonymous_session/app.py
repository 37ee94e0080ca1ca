"""POST /account/sessions/anonymous: a session of a new user without email, phone or password."""

from authcore.http.app import create_app, doc, entrypoint, signed_in
from authcore.http.depends import CallerInfo, SsrKey
from authcore.models.responses import Session
from authcore.services import anonymous

app = create_app()


@app.post("/account/sessions/anonymous", responses=doc(201, Session, 401, 429))
def create_anonymous_session(caller: CallerInfo, key: SsrKey):
    new = anonymous.create_anonymous_session(caller)
    return signed_in(app.event, new.session, new.credential, new.expire, reveal=key is not None)


lambda_handler = entrypoint(app)
