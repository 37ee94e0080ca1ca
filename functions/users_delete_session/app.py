"""DELETE /users/{userId}/sessions/{sessionId}: end one session of a user."""

from authcore.http.app import create_app, doc, entrypoint, no_content
from authcore.http.depends import UsersWrite
from authcore.services import admin

app = create_app()


@app.delete("/users/<userId>/sessions/<sessionId>", responses=doc(204, None, 401, 404))
def users_delete_session(userId: str, sessionId: str, key: UsersWrite):
    admin.delete_session(key, userId, sessionId)
    return no_content()


lambda_handler = entrypoint(app)
