"""PATCH /users/{userId}/verification: mark a user's email verified or not."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import UsersWrite
from authcore.models.requests import UpdateEmailVerificationFlag
from authcore.models.responses import Account
from authcore.services import admin

app = create_app()


@app.patch("/users/<userId>/verification", responses=doc(200, Account, 400, 401, 404))
def users_update_email_verification(userId: str, body: UpdateEmailVerificationFlag, key: UsersWrite):
    return ok(admin.update_email_verification(key, userId, body.emailVerification))


lambda_handler = entrypoint(app)
