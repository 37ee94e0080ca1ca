"""GET /account/prefs: the user's preferences object."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import GatedSession
from authcore.models.responses import Preferences
from authcore.services import accounts

app = create_app()


@app.get("/account/prefs", responses=doc(200, Preferences, 401))
def get_prefs(principal: GatedSession):
    return ok(accounts.get_prefs(principal))


lambda_handler = entrypoint(app)
