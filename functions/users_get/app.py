"""GET /users/{userId}: a user (Appwrite's User: the Account shape)."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import UsersRead
from authcore.models.responses import Account
from authcore.services import admin

app = create_app()


@app.get("/users/<userId>", responses=doc(200, Account, 401, 404))
def users_get(userId: str, key: UsersRead):
    return ok(admin.get_user(key, userId))


lambda_handler = entrypoint(app)
