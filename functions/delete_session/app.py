"""DELETE /account/sessions/{sessionId}: sign out one session. Exempt from the MFA gate."""

from authcore.http.app import create_app, doc, entrypoint, no_content, signed_out
from authcore.http.depends import CallerInfo, SessionWithAll
from authcore.services import sessions

app = create_app()


@app.delete("/account/sessions/<sessionId>", responses=doc(204, None, 401, 404))
def delete_session(sessionId: str, principal: SessionWithAll, caller: CallerInfo):
    if not sessions.delete_session(principal, sessionId, caller):
        return no_content()
    return signed_out(app.event)


lambda_handler = entrypoint(app)
