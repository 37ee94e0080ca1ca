"""GET /users/{userId}/logs: a user's security events, as the user sees them (the operators' audit trail)."""

from authcore.http import transport
from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import UsersRead
from authcore.models.responses import LogList
from authcore.services import admin

app = create_app()


@app.get("/users/<userId>/logs", responses=doc(200, LogList, 400, 401, 404))
def users_list_logs(userId: str, key: UsersRead):
    return ok(admin.list_logs(key, userId, transport.query_list(app.event, "queries")))


lambda_handler = entrypoint(app)
