"""PUT /account/mfa/challenge (and /challenges): complete a challenge; the session gains its factor."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import CallerInfo
from authcore.models.requests import UpdateMfaChallenge
from authcore.models.responses import Session
from authcore.services import challenges

app = create_app()
RESPONSES = doc(200, Session, 400, 401, 429)


@app.put("/account/mfa/challenge", responses=RESPONSES)
@app.put("/account/mfa/challenges", responses=RESPONSES)
def update_mfa_challenge(body: UpdateMfaChallenge, caller: CallerInfo):
    # The session, its user and the challenge are read together in one round trip by the service.
    return ok(challenges.complete_challenge(body, caller))


lambda_handler = entrypoint(app)
