"""PATCH /users/{userId}/mfa: turn a user's MFA on or off (no challenge: a support-desk reset)."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import CallerInfo, UsersWrite
from authcore.models.requests import UpdateMfa
from authcore.models.responses import Account
from authcore.services import admin

app = create_app()


@app.patch("/users/<userId>/mfa", responses=doc(200, Account, 400, 401, 404))
def users_update_mfa(userId: str, body: UpdateMfa, caller: CallerInfo, key: UsersWrite):
    return ok(admin.update_mfa(key, userId, body.mfa, caller.locale))


lambda_handler = entrypoint(app)
