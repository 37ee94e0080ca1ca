"""PUT /account/passkeys/{passkeyId}/verification: finish a registration with the credential's toJSON()."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import CallerInfo
from authcore.models.requests import UpdatePasskeyVerification
from authcore.models.responses import Passkey
from authcore.services import passkeys

app = create_app()


@app.put("/account/passkeys/<passkeyId>/verification", responses=doc(200, Passkey, 400, 401))
def update_passkey_verification(passkeyId: str, body: UpdatePasskeyVerification, caller: CallerInfo):
    # The session, its user and the registration are read together in one round trip by the service.
    return ok(passkeys.verify_registration(passkeyId, body, caller))


lambda_handler = entrypoint(app)
