"""DELETE /users/{userId}: delete a user with their sessions, tokens, challenges and address index items."""

from authcore.http.app import create_app, doc, entrypoint, no_content
from authcore.http.depends import UsersWrite
from authcore.services import admin

app = create_app()


@app.delete("/users/<userId>", responses=doc(204, None, 401, 404))
def users_delete(userId: str, key: UsersWrite):
    admin.delete_user(key, userId)
    return no_content()


lambda_handler = entrypoint(app)
