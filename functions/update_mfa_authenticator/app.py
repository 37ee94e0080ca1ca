"""PUT /account/mfa/authenticators/{type}: verify the authenticator with its first code."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import CallerInfo, GatedSession
from authcore.models.requests import VerifyAuthenticator
from authcore.models.responses import Account
from authcore.services import mfa

app = create_app()


@app.put("/account/mfa/authenticators/<type>", responses=doc(200, Account, 400, 401, 404, 409, 429))
def update_mfa_authenticator(type: str, body: VerifyAuthenticator, principal: GatedSession, caller: CallerInfo):
    return ok(mfa.verify_authenticator(principal, type, body, caller))


lambda_handler = entrypoint(app)
