"""PATCH /users/{userId}/mfa/recovery-codes: recovery codes for a user who has none (Appwrite's PATCH)."""

from authcore.http.app import create_app, created, doc, entrypoint
from authcore.http.depends import UsersWrite
from authcore.models.responses import MfaRecoveryCodes
from authcore.services import admin

app = create_app()


@app.patch("/users/<userId>/mfa/recovery-codes", responses=doc(201, MfaRecoveryCodes, 401, 404, 409))
def users_create_mfa_recovery_codes(userId: str, key: UsersWrite):
    return created(admin.create_recovery_codes(key, userId))


lambda_handler = entrypoint(app)
