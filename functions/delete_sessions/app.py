"""DELETE /account/sessions: sign out everywhere."""

from authcore.http import transport
from authcore.http.app import create_app, doc, entrypoint, no_content
from authcore.http.depends import GatedSessionWithAll
from authcore.services import sessions

app = create_app()


@app.delete("/account/sessions", responses=doc(204, None, 401))
def delete_sessions(principal: GatedSessionWithAll):
    sessions.delete_sessions(principal)
    event = app.current_event.raw_event
    return no_content(headers=transport.fallback_cookies_header(None), cookies=transport.expired_cookies(event))


lambda_handler = entrypoint(app)
