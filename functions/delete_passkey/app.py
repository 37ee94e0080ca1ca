"""DELETE /account/passkeys/{passkeyId}: remove a passkey (needs a sign-in or challenge in the last 10 minutes)."""

from authcore.http.app import create_app, doc, entrypoint, no_content
from authcore.http.depends import CallerInfo, GatedSession
from authcore.services import passkeys

app = create_app()


@app.delete("/account/passkeys/<passkeyId>", responses=doc(204, None, 401, 404))
def delete_passkey(passkeyId: str, principal: GatedSession, caller: CallerInfo):
    passkeys.delete_passkey(principal, passkeyId, caller)
    return no_content()


lambda_handler = entrypoint(app)
