"""DELETE /account/sessions: sign out everywhere (or, with `current: false`, everywhere else)."""

from authcore.http.app import create_app, doc, entrypoint, no_content, signed_out
from authcore.http.depends import CallerInfo, GatedSessionWithAll
from authcore.models.requests import DeleteSessions
from authcore.services import sessions

app = create_app()


@app.delete("/account/sessions", responses=doc(204, None, 400, 401))
def delete_sessions(principal: GatedSessionWithAll, caller: CallerInfo, body: DeleteSessions | None = None):
    current = body is None or body.current
    sessions.delete_sessions(principal, caller, current)
    return signed_out(app.event) if current else no_content()


lambda_handler = entrypoint(app)
