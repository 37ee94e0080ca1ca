"""POST /users/{userId}/sessions: a session for the user, made by the server; its `secret` is the credential
client.setSession() takes."""

from authcore.http.app import create_app, created, doc, entrypoint
from authcore.http.depends import CallerInfo, UsersWrite
from authcore.models.responses import Session
from authcore.services import admin

app = create_app()


@app.post("/users/<userId>/sessions", responses=doc(201, Session, 401, 404))
def users_create_session(userId: str, caller: CallerInfo, key: UsersWrite):
    return created(admin.create_session(key, userId, caller))


lambda_handler = entrypoint(app)
