"""DELETE /users/{userId}/mfa/authenticators/{type}: remove a user's authenticator (a support-desk reset)."""

from authcore.http.app import create_app, doc, entrypoint, no_content
from authcore.http.depends import CallerInfo, UsersWrite
from authcore.services import admin

app = create_app()


@app.delete("/users/<userId>/mfa/authenticators/<type>", responses=doc(204, None, 400, 401, 404))
def users_delete_mfa_authenticator(userId: str, type: str, caller: CallerInfo, key: UsersWrite):
    admin.delete_authenticator(key, userId, type, caller.locale)
    return no_content()


lambda_handler = entrypoint(app)
