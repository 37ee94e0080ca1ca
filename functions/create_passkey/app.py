"""POST /account/passkeys: start registering a passkey (needs a sign-in or challenge in the last 10 minutes);
the options go to navigator.credentials.create()."""

from authcore.http.app import create_app, created, doc, entrypoint
from authcore.http.depends import CallerInfo, GatedSession
from authcore.models.requests import CreatePasskey
from authcore.models.responses import PasskeyChallenge
from authcore.services import passkeys

app = create_app()


@app.post("/account/passkeys", responses=doc(201, PasskeyChallenge, 400, 401, 429))
def create_passkey(body: CreatePasskey, principal: GatedSession, caller: CallerInfo):
    return created(passkeys.create_registration(principal, body, caller))


lambda_handler = entrypoint(app)
