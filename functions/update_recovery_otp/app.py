"""PUT /account/recovery/otp: set a new password with the emailed code; every session ends."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import CallerInfo
from authcore.models.requests import UpdateRecovery
from authcore.models.responses import Token
from authcore.services import recovery

app = create_app()


@app.put("/account/recovery/otp", responses=doc(200, Token, 400, 401, 429))
def update_recovery_otp(body: UpdateRecovery, caller: CallerInfo):
    return ok(recovery.update_recovery_otp(body, caller))


lambda_handler = entrypoint(app)
