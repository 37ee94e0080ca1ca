"""POST /account/mfa/recovery-codes: ten single-use recovery codes, once."""

from authcore.http.app import create_app, created, doc, entrypoint
from authcore.http.depends import CallerInfo, GatedSession
from authcore.models.responses import MfaRecoveryCodes
from authcore.services import mfa

app = create_app()


@app.post("/account/mfa/recovery-codes", responses=doc(201, MfaRecoveryCodes, 401, 409))
def create_mfa_recovery_codes(principal: GatedSession, caller: CallerInfo):
    return created(mfa.create_recovery_codes(principal, caller))


lambda_handler = entrypoint(app)
