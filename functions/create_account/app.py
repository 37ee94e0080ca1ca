"""POST /account: sign up. No session is created."""

from authcore.http.app import create_app, created, doc, entrypoint
from authcore.http.depends import CallerInfo
from authcore.models.requests import CreateAccount
from authcore.models.responses import Account
from authcore.services import accounts

app = create_app()


@app.post("/account", responses=doc(201, Account, 400, 409, 429))
def create_account(body: CreateAccount, caller: CallerInfo):
    return created(accounts.create_account(body, caller))


lambda_handler = entrypoint(app)
