"""PATCH /account/status: the user blocks their own account. Every session ends (this one too: its cookies
are expired in the answer); sign-ins answer 401 user_blocked until an operator unblocks. With MFA on, only
right after a challenge."""

from authcore.http import transport
from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import CallerInfo, GatedSessionWithAll
from authcore.models.responses import Account
from authcore.services import accounts

app = create_app()


@app.patch("/account/status", responses=doc(200, Account, 401))
def update_status(principal: GatedSessionWithAll, caller: CallerInfo):
    event = app.event
    return ok(
        accounts.block_self(principal, caller),
        headers=transport.fallback_cookies_header(None),
        cookies=transport.expired_cookies(event),
    )


lambda_handler = entrypoint(app)
