"""DELETE /users/identities/{identityId}: unlink a provider account from its user (Users API)."""

from authcore.http.app import create_app, doc, entrypoint, no_content
from authcore.http.depends import UsersWrite
from authcore.services import admin

app = create_app()


@app.delete("/users/identities/<identityId>", responses=doc(204, None, 401, 404))
def users_delete_identity(identityId: str, key: UsersWrite):
    admin.delete_identity(key, identityId)
    return no_content()


lambda_handler = entrypoint(app)
