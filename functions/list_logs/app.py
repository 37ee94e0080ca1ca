"""GET /account/logs: the user's security events (Appwrite's LogList), newest first; `queries[]` takes
Appwrite's JSON limit and offset queries (default limit 25)."""

from authcore.http import transport
from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import GatedSession
from authcore.models.responses import LogList
from authcore.services import activity

app = create_app()


@app.get("/account/logs", responses=doc(200, LogList, 400, 401))
def list_logs(principal: GatedSession):
    return ok(activity.list_logs(principal.user["userId"], transport.query_list(app.event, "queries")))


lambda_handler = entrypoint(app)
