"""GET /users/identities: every user's provider accounts (Users API). Reads the whole table."""

import re

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import UsersRead
from authcore.models.responses import IdentityList
from authcore.services import admin

app = create_app()
QUERIES = re.compile(r"^queries(\[\d*\])?$")


@app.get("/users/identities", responses=doc(200, IdentityList, 400, 401))
def users_list_identities(key: UsersRead, search: str = ""):
    raw = app.current_event.multi_value_query_string_parameters or {}
    queries = [value for name, values in sorted(raw.items()) if QUERIES.match(name) for value in values]
    return ok(admin.list_identities(key, queries, search))


lambda_handler = entrypoint(app)
