"""DELETE /users/{userId}/sessions: end every session of a user."""

from authcore.http.app import create_app, doc, entrypoint, no_content
from authcore.http.depends import UsersWrite
from authcore.services import admin

app = create_app()


@app.delete("/users/<userId>/sessions", responses=doc(204, None, 401, 404))
def users_delete_sessions(userId: str, key: UsersWrite):
    admin.delete_sessions(key, userId)
    return no_content()


lambda_handler = entrypoint(app)
