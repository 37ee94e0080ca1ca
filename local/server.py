"""`python -m local.server`: template.yaml's API on http://127.0.0.1:3000/v1, AWS emulated.

Also serves GET/DELETE /__dev/outbox (emails and SMS sent), which no deployment has. Unlike a deployment, it
allows any loopback origin (http://localhost:<any port>, 127.0.0.1, [::1]) besides AllowedOrigins, unless
--strict-origins, and says in the console how to allow an origin it refuses.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from local import aws, demo, reference
from local.gateway import Gateway
from local.outbox import Outbox
from local.template import DEV_PARAMETERS, TEMPLATE_PATH, Function, Resolver, api, functions, layers, load

OUTBOX_PATH = "/__dev/outbox"


class _RequestHandler(WSGIRequestHandler):
    def make_environ(self) -> Any:
        environ = super().make_environ()
        # WSGI joins repeated headers with "," and drops names with "_"; API Gateway does neither.
        environ["local.raw_headers"] = list(self.headers.items())
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Silenced: the app logs one line per request itself."""


class OriginNotes:
    """One console line per browser origin that needs the developer's attention: the first time the API refuses
    it (with how to allow it), or allows it only because the local stack allows any loopback origin."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def note(self, origin: str) -> str | None:
        from authcore.config import settings  # after prepare_process: the layer is importable

        origin = origin.rstrip("/")
        config = settings()
        if not origin or origin in self._seen or origin.lower() in config.allowed_origins:
            return None
        self._seen.add(origin)
        listed = ",".join(sorted(config.allowed_origins))
        wanted = f"AllowedOrigins={listed},{origin}"
        # Not `sam deploy --parameter-overrides`: on the command line it drops every override samconfig.toml keeps.
        keeps = "make deploy GUIDED=1 asks; samconfig.toml keeps it in parameter_overrides"
        deploy = f"a deployed stack needs {wanted} ({keeps})"
        if config.origin_allowed(origin):
            return f"CORS: allowing Origin {origin} only because the local stack allows any loopback origin; {deploy}"
        return (
            f"CORS: refused Origin {origin}: it is not in AllowedOrigins. Allow it locally with "
            f'.venv/bin/python -m local.server --parameter-overrides "{wanted}"; {deploy}'
        )


def make_app(gateway: Gateway, outbox: Outbox) -> Any:
    """The WSGI application: the outbox route, else the API Gateway emulation."""
    origins = OriginNotes()

    @Request.application  # type: ignore[arg-type]
    def app(request: Request) -> Response:
        started = time.perf_counter()
        if request.path == OUTBOX_PATH and request.method in ("GET", "DELETE"):
            if request.method == "DELETE":
                outbox.clear()
                response = Response(status=204)
            else:
                listing = json.dumps(outbox.entries(), indent=2, ensure_ascii=False)
                response = Response(listing, mimetype="application/json")
        elif demo.handles(request.path) and request.method == "GET":
            response = demo.response(request.path)
        elif request.path in reference.PATHS and request.method == "GET":
            response = reference.respond(request.path, gateway.functions)
        else:
            result = gateway.handle(
                request.method,
                request.path,
                request.environ.get("local.raw_headers") or list(request.headers.items()),
                list(request.args.items(multi=True)),
                request.get_data(),
                request.remote_addr or "127.0.0.1",
            )
            response = Response(result.body, status=result.status, headers=result.headers)
        elapsed_ms = (time.perf_counter() - started) * 1000
        print(f"{request.method} {request.path} → {response.status_code} ({elapsed_ms:.0f} ms)", flush=True)
        if note := origins.note(request.headers.get("Origin", "")):
            print(f"  {note}", flush=True)
        for entry in outbox.collect():
            subject = f" [{entry['subject']}]" if entry["subject"] else ""
            print(f"  ✉ {entry['channel']} to {entry['to']}{subject}:\n    {entry['text']}", flush=True)
        return response

    return app


def prepare_process(template_functions: Iterable[Function], import_dirs: Iterable[Path]) -> None:
    """What Lambda provides before the handler module is imported: sys.path and environment.

    Handlers read settings once at import, so this must run before any function import.
    All functions share this process: a variable set differently by two functions keeps
    the first value (with a warning).
    """
    for directory in import_dirs:
        if str(directory) not in sys.path:
            sys.path.insert(0, str(directory))
    merged: dict[str, str] = {}
    for function in template_functions:
        for name, value in function.environment.items():
            if merged.setdefault(name, value) != value:
                print(f"warning: {function.name} sets {name}={value!r}; using {merged[name]!r}", file=sys.stderr)
    os.environ.update(merged)


def create_api_keys(specs: list[str]) -> list[tuple[str, str]]:
    """Server API keys in the emulated table, from NAME:SCOPE,SCOPE specs: (name, key) each."""
    from authcore.services.apikeys import create_key  # after prepare_process: the layer is importable

    keys = []
    for spec in specs:
        name, _, scopes = spec.partition(":")
        keys.append((name, create_key(name, scopes.split(","))[1]))
    return keys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")), help="0 picks a free port")
    parser.add_argument("--template", type=Path, default=TEMPLATE_PATH)
    parser.add_argument("--parameter-overrides", nargs="*", default=[], metavar="KEY=VALUE")
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="NAME:SCOPE,SCOPE",
        help="create a server API key at startup and print it (repeatable)",
    )
    parser.add_argument(
        "--strict-origins",
        action="store_true",
        help="allow only AllowedOrigins, as a deployment does (default: also any loopback origin)",
    )
    args = parser.parse_args(argv)
    overrides = {**DEV_PARAMETERS, **dict(item.split("=", 1) for item in args.parameter_overrides)}

    root = args.template.resolve().parent
    template = load(args.template)
    resolver = Resolver(template, overrides)
    aws.start(template, resolver)
    template_functions = functions(template, resolver, root=root)
    prepare_process(template_functions, [root, *layers(template, root=root)])
    from authcore.config import LOCAL_LOOPBACK_ORIGINS

    os.environ.pop("AWS_EXECUTION_ENV", None)  # set by Lambda (and some CI hosts); the local stack is not Lambda
    os.environ[LOCAL_LOOPBACK_ORIGINS] = "false" if args.strict_origins else "true"
    gateway = Gateway(template_functions, api(template, resolver))
    gateway.preload()
    try:
        keys = create_api_keys(args.api_key)
    except ValueError as error:
        parser.error(f"--api-key: {error}")

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(
        args.host, args.port, make_app(gateway, Outbox()), threaded=True, request_handler=_RequestHandler
    )
    endpoint = f"http://{args.host}:{server.port}/{gateway.api.stage}"
    print(f"Endpoint:   {endpoint}")
    if "ProjectId" in resolver.parameters:
        print(f"Project id: {resolver.parameters['ProjectId']}")
    print(f"Outbox:     http://{args.host}:{server.port}{OUTBOX_PATH}")
    print(f"API docs:   http://{args.host}:{server.port}{reference.DOCS_PATH}")
    print(f"Demo app:   http://{args.host}:{server.port}{demo.PREFIX}/")
    for name, key in keys:
        print(f"API key {name}: {key}")
    print("Try:")
    print(
        f"  curl -s -X POST {endpoint}/account -H 'content-type: application/json' "
        """-d '{"userId":"unique()","email":"ada@example.com","password":"correct horse battery"}'"""
    )
    print(f"Local stack ready on {endpoint}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
