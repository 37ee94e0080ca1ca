"""PUT /users/{userId}/mfa/recovery-codes: regenerate a user's recovery codes (Appwrite's PUT)."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import CallerInfo, UsersWrite
from authcore.models.responses import MfaRecoveryCodes
from authcore.services import admin

app = create_app()


@app.put("/users/<userId>/mfa/recovery-codes", responses=doc(200, MfaRecoveryCodes, 401, 404))
def users_update_mfa_recovery_codes(userId: str, caller: CallerInfo, key: UsersWrite):
    return ok(admin.regenerate_recovery_codes(key, userId, caller.locale))


lambda_handler = entrypoint(app)
