"""PATCH /account/name: change its name."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import GatedSession
from authcore.models.requests import UpdateName
from authcore.models.responses import Account
from authcore.services import accounts

app = create_app()


@app.patch("/account/name", responses=doc(200, Account, 400, 401))
def update_name(body: UpdateName, principal: GatedSession):
    return ok(accounts.update_name(principal, body))


lambda_handler = entrypoint(app)
