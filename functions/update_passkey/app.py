"""PATCH /account/passkeys/{passkeyId}: rename a passkey."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import GatedSession
from authcore.models.requests import UpdatePasskey
from authcore.models.responses import Passkey
from authcore.services import passkeys

app = create_app()


@app.patch("/account/passkeys/<passkeyId>", responses=doc(200, Passkey, 400, 401, 404))
def update_passkey(passkeyId: str, body: UpdatePasskey, principal: GatedSession):
    return ok(passkeys.update_passkey(principal, passkeyId, body))


lambda_handler = entrypoint(app)
