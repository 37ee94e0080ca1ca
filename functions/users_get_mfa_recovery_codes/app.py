"""GET /users/{userId}/mfa/recovery-codes: a user's unused recovery codes."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import UsersRead
from authcore.models.responses import MfaRecoveryCodes
from authcore.services import admin

app = create_app()


@app.get("/users/<userId>/mfa/recovery-codes", responses=doc(200, MfaRecoveryCodes, 401, 404))
def users_get_mfa_recovery_codes(userId: str, key: UsersRead):
    return ok(admin.get_recovery_codes(key, userId))


lambda_handler = entrypoint(app)
