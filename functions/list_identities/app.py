"""GET /account/identities: the caller's accounts at OAuth2 providers."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import GatedSession
from authcore.models.responses import IdentityList
from authcore.services import oauth

app = create_app()


@app.get("/account/identities", responses=doc(200, IdentityList, 401))
def list_identities(principal: GatedSession):
    return ok(oauth.list_identities(principal))


lambda_handler = entrypoint(app)
