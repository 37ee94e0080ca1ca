"""PATCH /account/prefs: change its preferences."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import GatedSession
from authcore.models.requests import UpdatePrefs
from authcore.models.responses import Account
from authcore.services import accounts

app = create_app()


@app.patch("/account/prefs", responses=doc(200, Account, 400, 401))
def update_prefs(body: UpdatePrefs, principal: GatedSession):
    return ok(accounts.update_prefs(principal, body))


lambda_handler = entrypoint(app)
