"""DELETE /account/mfa/authenticators/{type}: remove the authenticator (needs a recent challenge)."""

from authcore.http.app import create_app, doc, entrypoint, no_content
from authcore.http.depends import CallerInfo, GatedSession
from authcore.services import mfa

app = create_app()


@app.delete("/account/mfa/authenticators/<type>", responses=doc(204, None, 400, 401, 404))
def delete_mfa_authenticator(type: str, principal: GatedSession, caller: CallerInfo):
    mfa.delete_authenticator(principal, type, caller)
    return no_content()


lambda_handler = entrypoint(app)
