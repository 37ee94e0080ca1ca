"""PATCH /account/password: change its password; every other session ends."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import CallerInfo, GatedSession
from authcore.models.requests import UpdatePassword
from authcore.models.responses import Account
from authcore.services import accounts

app = create_app()


@app.patch("/account/password", responses=doc(200, Account, 400, 401, 429))
def update_password(body: UpdatePassword, principal: GatedSession, caller: CallerInfo):
    return ok(accounts.update_password(principal, body, caller))


lambda_handler = entrypoint(app)
