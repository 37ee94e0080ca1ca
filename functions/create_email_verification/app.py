"""POST /account/verification (alias /account/verifications/email): email a verification link."""

from authcore.http.app import create_app, created, doc, entrypoint
from authcore.http.depends import CallerInfo, GatedSession
from authcore.models.requests import CreateEmailVerification
from authcore.models.responses import Token
from authcore.services import verification

app = create_app()


@app.post("/account/verification", responses=doc(201, Token, 400, 401, 409, 429, 503))
@app.post("/account/verifications/email", responses=doc(201, Token, 400, 401, 409, 429, 503))
def create_email_verification(body: CreateEmailVerification, principal: GatedSession, caller: CallerInfo):
    return created(verification.create_email_verification(principal, body, caller))


lambda_handler = entrypoint(app)
