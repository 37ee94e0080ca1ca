"""GET /.well-known/openid-configuration: the issuer and where its keys are, for any JWT verifier."""

from authcore.http.app import create_app, doc, entrypoint, ok
from authcore.http.depends import Issuer
from authcore.models.responses import OpenIdConfiguration
from authcore.services import jwts

app = create_app()


@app.get("/.well-known/openid-configuration", responses=doc(200, OpenIdConfiguration))
def get_openid_configuration(issuer: Issuer):
    return ok(OpenIdConfiguration(**jwts.discovery(issuer)))


# Public and the same for everyone: shared caches may keep it (it changes only with the issuer).
lambda_handler = entrypoint(app, cache_control="public, max-age=3600")
