"""PUT /account/tokens/passkey: finish a passkey sign-in; the token's secret (1 minute) goes to
POST /account/sessions/token."""

from authcore.http.app import create_app, created, doc, entrypoint
from authcore.http.depends import CallerInfo
from authcore.models.requests import UpdatePasskeyToken
from authcore.models.responses import Token
from authcore.services import passkeys

app = create_app()


@app.put("/account/tokens/passkey", responses=doc(201, Token, 401))
def update_passkey_token(body: UpdatePasskeyToken, caller: CallerInfo):
    return created(passkeys.complete_sign_in(body, caller))


lambda_handler = entrypoint(app)
