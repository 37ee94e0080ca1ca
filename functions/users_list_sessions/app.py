"""GET /users/{userId}/sessions: a user's live sessions."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import UsersRead
from authcore.models.responses import SessionList
from authcore.services import admin

app = create_app()


@app.get("/users/<userId>/sessions", responses=doc(200, SessionList, 401, 404))
def users_list_sessions(userId: str, key: UsersRead):
    return ok(admin.list_sessions(key, userId))


lambda_handler = entrypoint(app)
