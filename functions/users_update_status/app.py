"""PATCH /users/{userId}/status: block (false) or unblock a user."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import CallerInfo, UsersWrite
from authcore.models.requests import UpdateStatus
from authcore.models.responses import Account
from authcore.services import admin

app = create_app()


@app.patch("/users/<userId>/status", responses=doc(200, Account, 400, 401, 404))
def users_update_status(userId: str, body: UpdateStatus, key: UsersWrite, caller: CallerInfo):
    return ok(admin.update_status(key, userId, body.status, caller))


lambda_handler = entrypoint(app)
