"""POST /account/tokens/magic-url: email a sign-in link (creating the account for a new email)."""

from authcore.http.app import create_app, created, doc, entrypoint
from authcore.http.depends import CallerInfo
from authcore.models.requests import MagicUrlToken
from authcore.models.responses import Token
from authcore.services import otp

app = create_app()


@app.post("/account/tokens/magic-url", responses=doc(201, Token, 400, 409, 429, 503))
def create_magic_url_token(body: MagicUrlToken, caller: CallerInfo):
    return created(otp.create_magic_url_token(body, caller))


lambda_handler = entrypoint(app)
