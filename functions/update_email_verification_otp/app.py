"""PUT /account/verifications/email/otp: confirm the email with the emailed code."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import CallerInfo
from authcore.models.requests import UpdateVerification
from authcore.models.responses import Token
from authcore.services import verification

app = create_app()


@app.put("/account/verifications/email/otp", responses=doc(200, Token, 400, 401, 429))
def update_email_verification_otp(body: UpdateVerification, caller: CallerInfo):
    return ok(verification.update_email_verification_code(body, caller))


lambda_handler = entrypoint(app)
