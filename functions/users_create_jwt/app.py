"""POST /users/{userId}/jwts: a JWT for one of the user's sessions, made by the server (API.md §8)."""

from authcore.http.app import create_app, created, doc, entrypoint
from authcore.http.depends import Issuer, UsersWrite
from authcore.models.requests import UsersCreateJwt
from authcore.models.responses import Jwt
from authcore.services import admin

app = create_app()


@app.post("/users/<userId>/jwts", responses=doc(201, Jwt, 401, 404))
def users_create_jwt(userId: str, key: UsersWrite, issuer: Issuer, body: UsersCreateJwt | None = None):
    body = body or UsersCreateJwt()
    return created(admin.create_jwt(key, userId, body.sessionId, body.duration, issuer))


lambda_handler = entrypoint(app)
