"""GET /.well-known/jwks.json: the public keys that verify our JWTs (read from the table, no KMS call)."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.models.responses import JsonWebKeySet
from authcore.services import jwts

app = create_app()


@app.get("/.well-known/jwks.json", responses=doc(200, JsonWebKeySet))
def get_jwks():
    return ok(JsonWebKeySet(**jwts.key_set()))


# Cached for at most 5 minutes: a key is published at least that long before it signs (docs/operations.md).
lambda_handler = entrypoint(app, cache_control="public, max-age=300")
