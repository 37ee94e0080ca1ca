"""POST /account/verification/phone (alias /account/verifications/phone): text a verification code."""

from authcore.http.app import create_app, created, doc, entrypoint
from authcore.http.depends import CallerInfo, GatedSession
from authcore.models.responses import Token
from authcore.services import verification

app = create_app()


@app.post("/account/verification/phone", responses=doc(201, Token, 400, 401, 409, 429, 503))
@app.post("/account/verifications/phone", responses=doc(201, Token, 400, 401, 409, 429, 503))
def create_phone_verification(principal: GatedSession, caller: CallerInfo):
    return created(verification.create_phone_verification(principal, caller))


lambda_handler = entrypoint(app)
