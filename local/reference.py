"""GET /__dev/openapi.json and GET /__dev/docs: the API's OpenAPI document and a reference page.

The page is rendered here from the document: plain HTML with inline CSS, no script, nothing fetched.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from html import escape
from typing import Any

from werkzeug.wrappers import Response

from local import openapi
from local.template import Function

OPENAPI_PATH = "/__dev/openapi.json"
DOCS_PATH = "/__dev/docs"
PATHS = (OPENAPI_PATH, DOCS_PATH)

METHOD_ORDER = ("get", "post", "put", "patch", "delete")
CSS = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2430;background:#fafbfc}
main{max-width:1040px;margin:0 auto;padding:1rem 2rem 4rem}
nav{columns:2;font-size:14px;background:#fff;border:1px solid #dde2e8;padding:.5rem 1rem}
nav h3{margin:.4rem 0;break-after:avoid}nav ul{margin:0 0 .6rem;padding-left:1rem}
h2{border-bottom:2px solid #dde2e8;padding-top:1rem}
section.op{background:#fff;border:1px solid #dde2e8;border-radius:6px;padding:.2rem 1rem .8rem;margin:1rem 0}
.m{display:inline-block;min-width:4.2em;text-align:center;border-radius:4px;color:#fff;font:600 13px monospace;
padding:2px 6px;margin-right:.5em}
.get{background:#2f7d32}.post{background:#1b5fad}.put{background:#8a5a00}.patch{background:#6a3d9a}
.delete{background:#b3261e}
table{border-collapse:collapse;width:100%;margin:.3rem 0 .8rem;font-size:14px}
th,td{border:1px solid #e3e7ec;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f3f5f8}
code{font:13px monospace;background:#f0f2f5;padding:0 3px;border-radius:3px}
.status{font:600 13px monospace}.s2{color:#2f7d32}.s4{color:#b3261e}.s5{color:#8a0000}
.muted{color:#667085}
"""

_lock = threading.Lock()
_cache: dict[tuple[str, ...], dict[str, Any]] = {}


def respond(path: str, functions: Sequence[Function]) -> Response:
    """The answer for one of PATHS; the document is built on first use (handlers are already loaded)."""
    spec = _document(functions)
    if path == OPENAPI_PATH:
        return Response(openapi.render(spec), mimetype="application/json")
    return Response(page(spec), mimetype="text/html")


def _document(functions: Sequence[Function]) -> dict[str, Any]:
    key = tuple(str(function.module_file) for function in functions)
    with _lock:  # the server is threaded; build it once
        if key not in _cache:
            _cache[key] = openapi.document(functions)
        return _cache[key]


def page(spec: dict[str, Any]) -> str:
    """The whole reference: overview, authentication, operations by tag, then the schemas."""
    info = spec["info"]
    title = f"{info['title']} API {info['version']}"
    groups = _operations_by_tag(spec)
    body = [
        f"<h1>{escape(title)}</h1>",
        f"<p class=muted>Base URL: {', '.join(_code(server['url']) for server in spec.get('servers', []))}. "
        f"The same document as JSON: <a href='{OPENAPI_PATH}'>{OPENAPI_PATH}</a>.</p>",
        _markdown(info.get("description", "")),
        _navigation(spec, groups),
        _authentication(spec),
    ]
    for tag in spec.get("tags", []):
        body.append(f"<h2 id='tag-{escape(tag['name'])}'>{escape(tag['name'])}</h2>")
        body.append(f"<p>{_inline(tag.get('description', ''))}</p>")
        body.extend(_operation(spec, method, path, operation) for method, path, operation in groups[tag["name"]])
    body.append("<h2 id=schemas>Schemas</h2>")
    for name, schema in spec["components"].get("schemas", {}).items():
        body.append(f"<h3 id='schema-{escape(name)}'>{escape(name)}</h3>{_schema(schema)}")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def _operations_by_tag(spec: dict[str, Any]) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    groups: dict[str, list[tuple[str, str, dict[str, Any]]]] = {tag["name"]: [] for tag in spec.get("tags", [])}
    for path, operations in spec["paths"].items():
        for method in sorted(operations, key=METHOD_ORDER.index):
            operation = operations[method]
            for tag in operation.get("tags", []):
                groups.setdefault(tag, []).append((method, path, operation))
    return groups


def _navigation(spec: dict[str, Any], groups: dict[str, list[tuple[str, str, dict[str, Any]]]]) -> str:
    parts = ["<nav>"]
    for tag in spec.get("tags", []):
        parts.append(f"<h3><a href='#tag-{escape(tag['name'])}'>{escape(tag['name'])}</a></h3><ul>")
        for method, path, operation in groups[tag["name"]]:
            parts.append(f"<li><a href='#{escape(operation['operationId'])}'>{method.upper()} {escape(path)}</a></li>")
        parts.append("</ul>")
    parts.append("<h3><a href='#schemas'>Schemas</a></h3></nav>")
    return "".join(parts)


def _authentication(spec: dict[str, Any]) -> str:
    components = spec["components"]
    rows = [
        [_code(scheme["name"]), escape(scheme["in"]), _inline(scheme.get("description", ""))]
        for scheme in components.get("securitySchemes", {}).values()
    ]
    project_rows = [
        [_code(parameter["name"]), escape(parameter["in"]), _inline(parameter.get("description", ""))]
        for parameter in components.get("parameters", {}).values()
    ]
    return (
        "<h2 id=authentication>Authentication</h2>"
        "<p>Operations marked <em>needs a session</em> accept the credential in any one of these:</p>"
        f"{_table(['name', 'in', 'description'], rows)}"
        "<p>Every operation also accepts the project id in any one of these (all optional):</p>"
        f"{_table(['name', 'in', 'description'], project_rows)}"
    )


def _operation(spec: dict[str, Any], method: str, path: str, operation: dict[str, Any]) -> str:
    server = spec.get("servers", [{}])[0].get("url", "")
    parts = [
        f"<section class=op id='{escape(operation['operationId'])}'>",
        f"<h3><span class='m {method}'>{method.upper()}</span><code>{escape(server + path)}</code></h3>",
        f"<p><strong>{_inline(operation.get('summary', ''))}</strong></p>",
    ]
    if operation.get("description"):
        parts.append(f"<p>{_inline(operation['description'])}</p>")
    # The shared project parameters are described once, under Authentication.
    parameters = [parameter for parameter in operation.get("parameters", []) if "$ref" not in parameter]
    if parameters:
        rows = [
            [
                _code(parameter["name"]),
                escape(parameter["in"]),
                "yes" if parameter.get("required") else "no",
                _type(parameter.get("schema", {})),
                _inline(parameter.get("description", "")),
            ]
            for parameter in parameters
        ]
        parts.append("<h4>Parameters</h4>" + _table(["name", "in", "required", "type", "description"], rows))
    body = operation.get("requestBody")
    if body:
        for media, content in body.get("content", {}).items():
            schema = content.get("schema", {})
            parts.append(f"<h4>Request body <span class=muted>({escape(media)}, {_type(schema)})</span></h4>")
            parts.append(_schema(_resolve(spec, schema)))
    rows = [
        [
            f"<span class='status s{code[0]}'>{escape(code)}</span>",
            _inline(response.get("description", "")),
            ", ".join(
                f"{escape(media)}: {_type(content['schema'])}" if "schema" in content else escape(media)
                for media, content in response.get("content", {}).items()
            )
            or "<span class=muted>empty</span>",
            ", ".join(_code(name) for name in response.get("headers", {})),
        ]
        for code, response in sorted(operation["responses"].items())
    ]
    parts.append("<h4>Responses</h4>" + _table(["status", "meaning", "body", "headers"], rows))
    parts.append("</section>")
    return "".join(parts)


def _schema(schema: dict[str, Any]) -> str:
    """An object schema as a table of its properties; any other schema as its type."""
    properties = schema.get("properties")
    description = f"<p>{_inline(schema['description'])}</p>" if schema.get("description") else ""
    if not properties:
        return f"{description}<p>{_type(schema)}</p>"
    required = set(schema.get("required", []))
    rows = [
        [_code(name), _type(prop), "yes" if name in required else "no", _inline(prop.get("description", ""))]
        for name, prop in properties.items()
    ]
    return description + _table(["field", "type", "required", "description"], rows)


def _type(schema: dict[str, Any]) -> str:
    """A one-line type: a link for a $ref, the item type of an array, constraints and default."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return f"<a href='#schema-{escape(name)}'>{escape(name)}</a>"
    if "anyOf" in schema:
        return " or ".join(_type(option) for option in schema["anyOf"])
    kind = escape(str(schema.get("type", "any")))
    if kind == "array":
        kind = f"array of {_type(schema.get('items', {}))}"
    notes = []
    if "enum" in schema:
        notes.append("one of " + ", ".join(_code(str(value)) for value in schema["enum"]))
    for key, label in (("minLength", "length ≥"), ("maxLength", "length ≤"), ("minimum", "≥"), ("maximum", "≤")):
        if key in schema:
            notes.append(f"{label} {_number(schema[key])}")
    if "default" in schema:
        notes.append(f"default {_code(json.dumps(schema['default']))}")
    return kind + (f" <span class=muted>({'; '.join(notes)})</span>" if notes else "")


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` (`#/components/...`)."""
    ref = node.get("$ref")
    if not ref:
        return node
    target: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return target


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _code(text: str) -> str:
    return f"<code>{escape(text)}</code>"


def _inline(text: str) -> str:
    """Escaped text with Markdown's `code` and **bold**."""
    html = escape(text)
    html = re.sub(r"`([^`]+)`", r"<code>\1</code>", html)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", html)


def _markdown(text: str) -> str:
    """Paragraphs and `- ` lists (continuation lines indented), enough for the document's description."""
    blocks: list[str] = []
    items: list[str] = []
    paragraph: list[str] = []

    def flush_paragraph() -> None:
        if paragraph:
            blocks.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()

    def flush_items() -> None:
        if items:
            blocks.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in items) + "</ul>")
            items.clear()

    for line in text.splitlines():
        if line.startswith("- "):
            flush_paragraph()
            items.append(line[2:])
        elif line.startswith(" ") and items:
            items[-1] += " " + line.strip()
        elif line.strip():
            flush_items()
            paragraph.append(line.strip())
        else:
            flush_items()
            flush_paragraph()
    flush_items()
    flush_paragraph()
    return "".join(blocks)
