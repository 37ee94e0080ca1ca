"""POST /account/tokens/phone: text a six-digit sign-in code (creating the account for a new phone)."""

from authcore.http.app import create_app, created, doc, entrypoint
from authcore.http.depends import CallerInfo
from authcore.models.requests import PhoneToken
from authcore.models.responses import Token
from authcore.services import otp

app = create_app()


@app.post("/account/tokens/phone", responses=doc(201, Token, 400, 409, 429, 503))
def create_phone_token(body: PhoneToken, caller: CallerInfo):
    return created(otp.create_phone_token(body, caller))


lambda_handler = entrypoint(app)
