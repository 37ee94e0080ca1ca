"""GET /users: list users, oldest first. `search` matches id, name, email or phone; `queries[]` takes
Appwrite's JSON limit and offset queries (default limit 25). Reads every profile of the table."""

from authcore.http import transport
from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import UsersRead
from authcore.models.responses import UserList
from authcore.services import admin

app = create_app()


@app.get("/users", responses=doc(200, UserList, 400, 401))
def users_list(key: UsersRead, search: str = ""):
    return ok(admin.list_users(key, transport.query_list(app.event, "queries"), search))


lambda_handler = entrypoint(app)
