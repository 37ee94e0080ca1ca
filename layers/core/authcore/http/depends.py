"""Route dependencies: who is calling, and which session they hold (with the MFA gate)."""

from typing import Annotated

from authcore.errors import ApiError
from authcore.http import transport
from authcore.http.router import Depends, Request
from authcore.models.caller import Caller, JwtCredential
from authcore.observability import identify
from authcore.services.apikeys import INVALID_KEY, ServerKey, authorize
from authcore.services.auth import Principal, authenticate
from authcore.services.factors import needs_more_factors


def read_caller(request: Request) -> Caller:
    event = request.event
    identity = (event.get("requestContext") or {}).get("identity") or {}
    token = transport.jwt(event)  # a JWT, when one is presented, names the session (as in Appwrite)
    return Caller(
        ip=identity.get("sourceIp") or "",
        user_agent=transport.header(event, "User-Agent"),
        credential=JwtCredential(token, transport.issuer(event)) if token else transport.credential(event),
        locale=transport.header(event, "X-Appwrite-Locale") or transport.header(event, "X-Nuvix-Locale"),
    )


def read_issuer(request: Request) -> str:
    """The `iss` of the JWTs this API mints (transport.issuer)."""
    return transport.issuer(request.event)


def _known(principal: Principal) -> Principal:
    """The caller is this user: say so in the request's log line."""
    identify(principal.user["userId"])
    return principal


def _gate(principal: Principal) -> Principal:
    if needs_more_factors(principal.user, principal.session):
        raise ApiError("user_more_factors_required")
    return principal


def gated_session(caller: Annotated[Caller, Depends(read_caller)]) -> Principal:
    """The caller's session, which must have every factor the MFA gate asks for."""
    return _gate(_known(authenticate(caller.credential)))


def gated_session_with_all(caller: Annotated[Caller, Depends(read_caller)]) -> Principal:
    """As gated_session, with every session of the user loaded in the same round trip."""
    return _gate(_known(authenticate(caller.credential, with_all_sessions=True)))


def ungated_session(caller: Annotated[Caller, Depends(read_caller)]) -> Principal:
    """Any live session, gate or not: a half-signed-in user may list factors and create challenges."""
    return _known(authenticate(caller.credential))


def session_with_all(caller: Annotated[Caller, Depends(read_caller)]) -> Principal:
    """Any live session, gate or not: a half-signed-in user may still sign out."""
    return _known(authenticate(caller.credential, with_all_sessions=True))


def _server_key(scope: str):
    """A dependency: the request's server API key, which must have `scope` (401 without one)."""

    def server_key(request: Request) -> ServerKey:
        presented = transport.api_key(request.event)
        if not presented:
            raise ApiError("general_unauthorized_scope", INVALID_KEY)
        return authorize(presented, scope)

    server_key.scope = scope  # type: ignore[attr-defined]  # read by local/openapi.py
    return server_key


def ssr_key(request: Request) -> ServerKey | None:
    """The server API key of an SSR sign-in (scope sessions.write), or None when no key is presented:
    a request without one costs nothing more."""
    presented = transport.api_key(request.event)
    return authorize(presented, "sessions.write") if presented else None


CallerInfo = Annotated[Caller, Depends(read_caller)]
Issuer = Annotated[str, Depends(read_issuer)]
GatedSession = Annotated[Principal, Depends(gated_session)]
GatedSessionWithAll = Annotated[Principal, Depends(gated_session_with_all)]
SessionWithAll = Annotated[Principal, Depends(session_with_all)]
UngatedSession = Annotated[Principal, Depends(ungated_session)]
SsrKey = Annotated[ServerKey | None, Depends(ssr_key)]
UsersRead = Annotated[ServerKey, Depends(_server_key("users.read"))]
UsersWrite = Annotated[ServerKey, Depends(_server_key("users.write"))]
SessionsWrite = Annotated[ServerKey, Depends(_server_key("sessions.write"))]
