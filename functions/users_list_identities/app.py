"""GET /users/identities: every user's provider accounts (Users API). Reads the whole table."""

from authcore.http import transport
from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import UsersRead
from authcore.models.responses import IdentityList
from authcore.services import admin

app = create_app()


@app.get("/users/identities", responses=doc(200, IdentityList, 400, 401))
def users_list_identities(key: UsersRead, search: str = ""):
    queries = transport.query_list(app.event, "queries")
    return ok(admin.list_identities(key, queries, search))


lambda_handler = entrypoint(app)
