"""PATCH /users/{userId}/passkeys/{passkeyId}: rename a user's passkey."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import UsersWrite
from authcore.models.requests import UpdatePasskey
from authcore.models.responses import Passkey
from authcore.services import admin

app = create_app()


@app.patch("/users/<userId>/passkeys/<passkeyId>", responses=doc(200, Passkey, 400, 401, 404))
def users_update_passkey(userId: str, passkeyId: str, body: UpdatePasskey, key: UsersWrite):
    return ok(admin.update_passkey(key, userId, passkeyId, body))


lambda_handler = entrypoint(app)
