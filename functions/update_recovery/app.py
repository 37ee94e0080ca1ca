"""PUT /account/recovery: set a new password with the link's secret; every session ends."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import CallerInfo
from authcore.models.requests import UpdateRecovery
from authcore.models.responses import Token
from authcore.services import recovery

app = create_app()


@app.put("/account/recovery", responses=doc(200, Token, 400, 401, 429))
def update_recovery(body: UpdateRecovery, caller: CallerInfo):
    return ok(recovery.update_recovery(body, caller))


lambda_handler = entrypoint(app)
