"""GET /users: list users, oldest first. `search` matches id, name, email or phone; `queries[]` takes
Appwrite's JSON limit and offset queries (default limit 25). Reads every profile of the table."""

import re

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import UsersRead
from authcore.models.responses import UserList
from authcore.services import admin

app = create_app()
QUERIES = re.compile(r"^queries(\[\d*\])?$")  # queries[0]=… (Appwrite's SDKs) or queries[]=…


@app.get("/users", responses=doc(200, UserList, 400, 401))
def users_list(key: UsersRead, search: str = ""):
    raw = app.current_event.multi_value_query_string_parameters or {}
    queries = [value for name, values in sorted(raw.items()) if QUERIES.match(name) for value in values]
    return ok(admin.list_users(key, queries, search))


lambda_handler = entrypoint(app)
