"""POST /account/mfa/authenticators/{type}: a new TOTP secret and its otpauth:// URI (shown only here)."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import GatedSession
from authcore.models.responses import MfaType
from authcore.services import mfa

app = create_app()


# 200 rather than 201, as Appwrite answers (API.md §4.5 lists no 201 for it).
@app.post("/account/mfa/authenticators/<type>", responses=doc(200, MfaType, 400, 401, 409))
def create_mfa_authenticator(type: str, principal: GatedSession):
    return ok(mfa.create_authenticator(principal, type))


lambda_handler = entrypoint(app)
