"""PUT /account/verification (alias /account/verifications/email): confirm the email with the link's secret."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import CallerInfo
from authcore.models.requests import UpdateVerification
from authcore.models.responses import Token
from authcore.services import verification

app = create_app()


@app.put("/account/verification", responses=doc(200, Token, 400, 401, 429))
@app.put("/account/verifications/email", responses=doc(200, Token, 400, 401, 429))
def update_email_verification(body: UpdateVerification, caller: CallerInfo):
    return ok(verification.update_email_verification(body, caller))


lambda_handler = entrypoint(app)
