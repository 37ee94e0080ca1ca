"""GET /account/passkeys/{passkeyId}: one passkey of the user."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import GatedSession
from authcore.models.responses import Passkey
from authcore.services import passkeys

app = create_app()


@app.get("/account/passkeys/<passkeyId>", responses=doc(200, Passkey, 401, 404))
def get_passkey(passkeyId: str, principal: GatedSession):
    return ok(passkeys.get_passkey(principal, passkeyId))


lambda_handler = entrypoint(app)
