"""POST /account/tokens/passkey: start a passkey sign-in (no user named); the options go to
navigator.credentials.get()."""

from authcore.http.app import create_app, created, doc, entrypoint
from authcore.http.depends import CallerInfo
from authcore.models.responses import PasskeyChallenge
from authcore.services import passkeys

app = create_app()


@app.post("/account/tokens/passkey", responses=doc(201, PasskeyChallenge, 429))
def create_passkey_token(caller: CallerInfo):
    return created(passkeys.create_sign_in(caller))


lambda_handler = entrypoint(app)
