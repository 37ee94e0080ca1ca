"""POST /account/verifications/email/otp: email a six-digit code that verifies the email."""

from authcore.http.app import create_app, created, doc, entrypoint
from authcore.http.depends import CallerInfo, GatedSession
from authcore.models.requests import CreateEmailVerificationCode
from authcore.models.responses import Token
from authcore.services import verification

app = create_app()


@app.post("/account/verifications/email/otp", responses=doc(201, Token, 400, 401, 409, 429, 503))
def create_email_verification_otp(body: CreateEmailVerificationCode, principal: GatedSession, caller: CallerInfo):
    return created(verification.create_email_verification_code(principal, body, caller))


lambda_handler = entrypoint(app)
