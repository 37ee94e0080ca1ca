"""GET /account/mfa/recovery-codes: the unused recovery codes (needs a recent challenge)."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import GatedSession
from authcore.models.responses import MfaRecoveryCodes
from authcore.services import mfa

app = create_app()


@app.get("/account/mfa/recovery-codes", responses=doc(200, MfaRecoveryCodes, 401, 404))
def get_mfa_recovery_codes(principal: GatedSession):
    return ok(mfa.get_recovery_codes(principal))


lambda_handler = entrypoint(app)
