"""DELETE /users/{userId}/passkeys/{passkeyId}: remove a user's passkey (a lost one: the support desk)."""

from authcore.http.app import create_app, doc, entrypoint, no_content
from authcore.http.depends import CallerInfo, UsersWrite
from authcore.services import admin

app = create_app()


@app.delete("/users/<userId>/passkeys/<passkeyId>", responses=doc(204, None, 401, 404))
def users_delete_passkey(userId: str, passkeyId: str, caller: CallerInfo, key: UsersWrite):
    admin.delete_passkey(key, userId, passkeyId, caller.locale)
    return no_content()


lambda_handler = entrypoint(app)
