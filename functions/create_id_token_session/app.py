"""POST /account/sessions/id-token: sign in with an ID token a native app got from Google or Apple."""

from authcore.http.app import create_app, doc, entrypoint, signed_in
from authcore.http.depends import CallerInfo
from authcore.models.requests import IdTokenSession
from authcore.models.responses import Session
from authcore.services import oauth

app = create_app()


@app.post("/account/sessions/id-token", responses=doc(201, Session, 400, 401, 409, 412, 429))
def create_id_token_session(body: IdTokenSession, caller: CallerInfo):
    new = oauth.create_id_token_session(body.provider, body.idToken, body.nonce, body.name, caller)
    return signed_in(app.event, new.session, new.credential, new.expire)


lambda_handler = entrypoint(app)
