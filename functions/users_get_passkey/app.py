"""GET /users/{userId}/passkeys/{passkeyId}: one passkey of a user."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import UsersRead
from authcore.models.responses import Passkey
from authcore.services import admin

app = create_app()


@app.get("/users/<userId>/passkeys/<passkeyId>", responses=doc(200, Passkey, 401, 404))
def users_get_passkey(userId: str, passkeyId: str, key: UsersRead):
    return ok(admin.get_passkey(key, userId, passkeyId))


lambda_handler = entrypoint(app)
