"""GET /account/passkeys: the user's passkeys, oldest first (`queries[]`: limit and offset)."""

from authcore.http import transport
from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import GatedSession
from authcore.models.responses import PasskeyList
from authcore.services import passkeys

app = create_app()


@app.get("/account/passkeys", responses=doc(200, PasskeyList, 400, 401))
def list_passkeys(principal: GatedSession):
    return ok(passkeys.list_passkeys(principal, transport.query_list(app.event, "queries")))


lambda_handler = entrypoint(app)
