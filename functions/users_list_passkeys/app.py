"""GET /users/{userId}/passkeys: a user's passkeys (`queries[]`: limit and offset)."""

from authcore.http import transport
from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import UsersRead
from authcore.models.responses import PasskeyList
from authcore.services import admin

app = create_app()


@app.get("/users/<userId>/passkeys", responses=doc(200, PasskeyList, 400, 401, 404))
def users_list_passkeys(userId: str, key: UsersRead):
    return ok(admin.list_passkeys(key, userId, transport.query_list(app.event, "queries")))


lambda_handler = entrypoint(app)
