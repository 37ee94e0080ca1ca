"""GET /account/sessions: every live session of the user."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import GatedSessionWithAll
from authcore.models.responses import SessionList
from authcore.services import sessions

app = create_app()


@app.get("/account/sessions", responses=doc(200, SessionList, 401))
def list_sessions(principal: GatedSessionWithAll):
    return ok(sessions.list_sessions(principal))


lambda_handler = entrypoint(app)
