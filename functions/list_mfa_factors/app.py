"""GET /account/mfa/factors: which factors the user can be challenged with (exempt from the MFA gate)."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import UngatedSession
from authcore.models.responses import MfaFactors
from authcore.services import mfa

app = create_app()


@app.get("/account/mfa/factors", responses=doc(200, MfaFactors, 401))
def list_mfa_factors(principal: UngatedSession):
    return ok(mfa.list_factors(principal))


lambda_handler = entrypoint(app)
