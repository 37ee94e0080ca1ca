"""GET /users/{userId}/mfa/factors: which factors a user can be challenged with."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import UsersRead
from authcore.models.responses import MfaFactors
from authcore.services import admin

app = create_app()


@app.get("/users/<userId>/mfa/factors", responses=doc(200, MfaFactors, 401, 404))
def users_list_mfa_factors(userId: str, key: UsersRead):
    return ok(admin.list_factors(key, userId))


lambda_handler = entrypoint(app)
