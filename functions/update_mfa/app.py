"""PATCH /account/mfa: turn multi-factor authentication on or off."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import CallerInfo, GatedSession
from authcore.models.requests import UpdateMfa
from authcore.models.responses import Account
from authcore.services import mfa

app = create_app()


@app.patch("/account/mfa", responses=doc(200, Account, 400, 401, 429))
def update_mfa(body: UpdateMfa, principal: GatedSession, caller: CallerInfo):
    return ok(mfa.update_mfa(principal, body, caller))


lambda_handler = entrypoint(app)
