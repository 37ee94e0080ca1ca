"""POST /account/recovery/otp: email a six-digit password reset code (the same answer for an email no account holds)."""

from authcore.http.app import create_app, created, doc, entrypoint
from authcore.http.depends import CallerInfo
from authcore.models.requests import CreateRecoveryOtp
from authcore.models.responses import Token
from authcore.services import recovery

app = create_app()


@app.post("/account/recovery/otp", responses=doc(201, Token, 400, 429, 503))
def create_recovery_otp(body: CreateRecoveryOtp, caller: CallerInfo):
    return created(recovery.create_recovery_otp(body, caller))


lambda_handler = entrypoint(app)
