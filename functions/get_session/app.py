"""GET /account/sessions/{sessionId}: one session (`current` names the caller's own)."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import GatedSessionWithAll
from authcore.models.responses import Session
from authcore.services import sessions

app = create_app()


@app.get("/account/sessions/<sessionId>", responses=doc(200, Session, 401, 404))
def get_session(sessionId: str, principal: GatedSessionWithAll):
    return ok(sessions.get_session(principal, sessionId))


lambda_handler = entrypoint(app)
