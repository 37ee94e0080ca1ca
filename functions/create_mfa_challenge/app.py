"""POST /account/mfa/challenge (and /challenges): a challenge for one more factor (exempt from the MFA gate)."""

from authcore.http.app import create_app, created, doc, entrypoint
from authcore.http.depends import CallerInfo, UngatedSession
from authcore.models.requests import CreateMfaChallenge
from authcore.models.responses import MfaChallenge
from authcore.services import challenges

app = create_app()
RESPONSES = doc(201, MfaChallenge, 400, 401, 404, 429, 503)


@app.post("/account/mfa/challenge", responses=RESPONSES)
@app.post("/account/mfa/challenges", responses=RESPONSES)
def create_mfa_challenge(body: CreateMfaChallenge, principal: UngatedSession, caller: CallerInfo):
    return created(challenges.create_challenge(principal, body, caller))


lambda_handler = entrypoint(app)
