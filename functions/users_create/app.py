"""POST /users: create a user (Appwrite's users.create: any of email, phone and password)."""

from authcore.http.app import create_app, created, doc, entrypoint
from authcore.http.depends import UsersWrite
from authcore.models.requests import CreateUser
from authcore.models.responses import Account
from authcore.services import admin

app = create_app()


@app.post("/users", responses=doc(201, Account, 400, 401, 409))
def users_create(body: CreateUser, key: UsersWrite):
    return created(admin.create_user(key, body))


lambda_handler = entrypoint(app)
