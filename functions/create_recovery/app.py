"""POST /account/recovery: email a password reset link (the same answer for an email no account holds)."""

from authcore.http.app import create_app, created, doc, entrypoint
from authcore.http.depends import CallerInfo
from authcore.models.requests import CreateRecovery
from authcore.models.responses import Token
from authcore.services import recovery

app = create_app()


@app.post("/account/recovery", responses=doc(201, Token, 400, 429, 503))
def create_recovery(body: CreateRecovery, caller: CallerInfo):
    return created(recovery.create_recovery(body, caller))


lambda_handler = entrypoint(app)
