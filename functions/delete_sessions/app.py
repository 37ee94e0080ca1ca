"""DELETE /account/sessions: sign out everywhere."""

from authcore.http.app import create_app, doc, entrypoint, signed_out
from authcore.http.depends import GatedSessionWithAll
from authcore.services import sessions

app = create_app()


@app.delete("/account/sessions", responses=doc(204, None, 401))
def delete_sessions(principal: GatedSessionWithAll):
    sessions.delete_sessions(principal)
    return signed_out(app.current_event.raw_event)


lambda_handler = entrypoint(app)
