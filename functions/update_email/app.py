"""PATCH /account/email: change its email (verification resets)."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import CallerInfo, GatedSession
from authcore.models.requests import UpdateEmail
from authcore.models.responses import Account
from authcore.services import accounts

app = create_app()


@app.patch("/account/email", responses=doc(200, Account, 400, 401, 409, 429))
def update_email(body: UpdateEmail, principal: GatedSession, caller: CallerInfo):
    return ok(accounts.update_email(principal, body, caller))


lambda_handler = entrypoint(app)
