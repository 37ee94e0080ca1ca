"""PATCH /account/sessions/{sessionId}: extend a session to a full lifetime."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import GatedSessionWithAll
from authcore.models.responses import Session
from authcore.services import sessions

app = create_app()


@app.patch("/account/sessions/<sessionId>", responses=doc(200, Session, 401, 404))
def update_session(sessionId: str, principal: GatedSessionWithAll):
    return ok(sessions.update_session(principal, sessionId))


lambda_handler = entrypoint(app)
