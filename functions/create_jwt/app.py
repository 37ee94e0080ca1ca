"""POST /account/jwts: a JWT naming the caller and this session, for the team's other APIs (API.md §8)."""

from authcore.http.app import create_app, created, doc, entrypoint
from authcore.http.depends import CallerInfo, GatedSession, Issuer
from authcore.models.requests import CreateJwt
from authcore.models.responses import Jwt
from authcore.services import jwts

app = create_app()


@app.post("/account/jwts", responses=doc(201, Jwt, 401))
def create_jwt(principal: GatedSession, caller: CallerInfo, issuer: Issuer, body: CreateJwt | None = None):
    duration = (body or CreateJwt()).duration
    return created(jwts.create_for_session(principal, caller.credential, duration, issuer))


lambda_handler = entrypoint(app)
