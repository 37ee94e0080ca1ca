"""ANY /{proxy+}: a path this API does not serve. 404 general_route_not_found, CORS as everywhere."""

from authcore.http.app import create_app, entrypoint

app = create_app()  # no routes: every request takes the resolver's not-found answer

lambda_handler = entrypoint(app)
