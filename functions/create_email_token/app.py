"""POST /account/tokens/email: email a six-digit sign-in code (creating the account for a new email)."""

from authcore.http.app import create_app, created, doc, entrypoint
from authcore.http.depends import CallerInfo
from authcore.models.requests import EmailToken
from authcore.models.responses import Token
from authcore.services import otp

app = create_app()


@app.post("/account/tokens/email", responses=doc(201, Token, 400, 409, 429, 503))
def create_email_token(body: EmailToken, caller: CallerInfo):
    return created(otp.create_email_token(body, caller))


lambda_handler = entrypoint(app)
