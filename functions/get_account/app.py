"""GET /account: the signed-in user's account."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import GatedSession
from authcore.models.responses import Account
from authcore.services import accounts

app = create_app()


@app.get("/account", responses=doc(200, Account, 401))
def get_account(principal: GatedSession):
    return ok(accounts.get_account(principal))


lambda_handler = entrypoint(app)
