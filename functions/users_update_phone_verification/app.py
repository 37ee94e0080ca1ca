"""PATCH /users/{userId}/verification/phone: mark a user's phone verified or not."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import UsersWrite
from authcore.models.requests import UpdatePhoneVerificationFlag
from authcore.models.responses import Account
from authcore.services import admin

app = create_app()


@app.patch("/users/<userId>/verification/phone", responses=doc(200, Account, 400, 401, 404))
def users_update_phone_verification(userId: str, body: UpdatePhoneVerificationFlag, key: UsersWrite):
    return ok(admin.update_phone_verification(key, userId, body.phoneVerification))


lambda_handler = entrypoint(app)
