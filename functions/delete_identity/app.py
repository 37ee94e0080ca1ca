"""DELETE /account/identities/{identityId}: unlink one of the caller's provider accounts."""

from authcore.http.app import create_app, doc, entrypoint, no_content
from authcore.http.depends import GatedSession
from authcore.services import oauth

app = create_app()


@app.delete("/account/identities/<identityId>", responses=doc(204, None, 401, 404))
def delete_identity(identityId: str, principal: GatedSession):
    oauth.delete_identity(principal, identityId)
    return no_content()


lambda_handler = entrypoint(app)
