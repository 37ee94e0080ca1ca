"""PATCH /account/mfa/recovery-codes: a fresh set of recovery codes (needs a recent challenge)."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import CallerInfo, GatedSession
from authcore.models.responses import MfaRecoveryCodes
from authcore.services import mfa

app = create_app()


@app.patch("/account/mfa/recovery-codes", responses=doc(200, MfaRecoveryCodes, 401, 404, 409))
def update_mfa_recovery_codes(principal: GatedSession, caller: CallerInfo):
    return ok(mfa.update_recovery_codes(principal, caller))


lambda_handler = entrypoint(app)
