"""Read template.yaml: CloudFormation short tags, intrinsic functions, SAM functions and routes.

Import-safe and AWS-free: the test suite uses it to load functions and compare routes.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account, so ARNs match what moto returns
STACK_NAME = "local"
# What the local stack (and the test suite) run with unless told otherwise: email and SMS on,
# delivered to the emulated SES and SNS, so every route works without configuration.
DEV_PARAMETERS = {"SenderEmail": "no-reply@authcore.local", "SmsEnabled": "true"}


class _Loader(yaml.SafeLoader):
    """SafeLoader reading `!Ref X` as {"Ref": "X"}, `!Join [...]` as {"Fn::Join": [...]}, etc."""


def _short_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _short_tag)


def load(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """Parse a SAM/CloudFormation template (short tags become their long forms)."""
    return parse(path.read_text())


def parse(text: str) -> dict[str, Any]:
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader  # nosec B506


@dataclass
class Physical:
    """What Ref (`ref`) and Fn::GetAtt (`attributes`) return for a resource created locally."""

    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


_NO_VALUE = object()  # AWS::NoValue: the enclosing key or list item disappears
_SUB_VAR = re.compile(r"\$\{([^}]+)\}")


class Resolver:
    """Evaluates intrinsic functions against parameter values and local resources.

    A Ref/GetAtt to a resource not (yet) in `resources` yields a deterministic placeholder,
    so functions and routes can be read without any emulation running.
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        overrides: Mapping[str, str] | None = None,
        *,
        region: str = REGION,
        account_id: str = ACCOUNT_ID,
        stack_name: str = STACK_NAME,
    ) -> None:
        declared = template.get("Parameters") or {}
        unknown = set(overrides or {}) - set(declared)
        if unknown:
            raise ValueError(f"unknown parameter override(s): {', '.join(sorted(unknown))}")
        self.template = template
        self.region, self.account_id, self.stack_name = region, account_id, stack_name
        self.resources: dict[str, Physical] = {}
        self.parameters: dict[str, str | list[str]] = {}
        for name, spec in declared.items():
            value = (overrides or {}).get(name, spec.get("Default"))
            if value is None:
                continue  # a Ref to it fails, naming the parameter
            is_list = spec.get("Type") == "CommaDelimitedList" or spec.get("Type", "").startswith("List<")
            self.parameters[name] = _text(value).split(",") if is_list else _text(value)
        self.pseudo: dict[str, Any] = {
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": _NO_VALUE,
        }

    def resolve(self, value: Any) -> Any:
        """Return `value` with every intrinsic function evaluated."""
        if isinstance(value, list):
            return [item for item in map(self.resolve, value) if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Condition" and isinstance(arg, str):
                return self.condition(arg)
            if key.startswith("Fn::"):
                return self._function(key[4:], arg)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def _function(self, name: str, arg: Any) -> Any:
        if name == "GetAtt":
            logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
            return self._get_att(logical_id, attribute)
        if name == "Sub":
            return self._sub(*arg) if isinstance(arg, list) else self._sub(arg)
        if name == "If":
            condition, when_true, when_false = arg
            return self.resolve(when_true if self.condition(condition) else when_false)
        args = self.resolve(arg)
        match name:
            case "Join":
                return args[0].join(_text(item) for item in args[1])
            case "Select":
                return args[1][int(args[0])]
            case "Split":
                return args[1].split(args[0])
            case "Equals":
                return _text(args[0]) == _text(args[1])
            case "Not":
                return not args[0]
            case "And":
                return all(args)
            case "Or":
                return any(args)
            case "FindInMap":
                return self.template["Mappings"][args[0]][args[1]][args[2]]
            case "Base64":
                return base64.b64encode(args.encode()).decode()
        raise ValueError(f"intrinsic function Fn::{name} is not supported locally")

    def _ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in (self.template.get("Parameters") or {}):
            raise ValueError(f"parameter {name} has no Default: pass {name}=... as an override")
        if name in self.resources:
            return self.resources[name].ref
        resource = (self.template.get("Resources") or {}).get(name)
        if resource is not None:
            if resource.get("Type") == "AWS::KMS::Alias":  # its Ref is its name, known before it exists
                return self.resolve(resource["Properties"]["AliasName"])
            return f"{self.stack_name}-{name}"
        raise ValueError(f"Ref to unknown name {name!r}")

    def _get_att(self, logical_id: str, attribute: str) -> str:
        if logical_id in self.resources and attribute in self.resources[logical_id].attributes:
            return self.resources[logical_id].attributes[attribute]
        resource = (self.template.get("Resources") or {}).get(logical_id)
        if resource is None or not attribute.endswith("Arn"):
            raise ValueError(f"no local value for Fn::GetAtt {logical_id}.{attribute}")
        service = resource["Type"].split("::")[1].lower()
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{self.stack_name}-{logical_id}"

    def _sub(self, text: str, variables: Mapping[str, Any] | None = None) -> str:
        def replace(found: re.Match[str]) -> str:
            name = found.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if variables and name in variables:
                return _text(self.resolve(variables[name]))
            if "." in name and name not in self.pseudo:
                return _text(self._get_att(*name.split(".", 1)))
            return _text(self._ref(name))

        return _SUB_VAR.sub(replace, text)


def _text(value: Any) -> str:
    """CloudFormation's string form of a scalar (YAML `true` → "true", 10 → "10")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class Function:
    """One AWS::Serverless::Function, Globals applied."""

    logical_id: str
    name: str  # the CodeUri folder name, e.g. "create_account"
    code_dir: Path
    module_file: Path  # e.g. <code_dir>/app.py
    module: str  # dotted module in code_dir, e.g. "app"
    handler: str  # function name in the module, e.g. "lambda_handler"
    routes: tuple[tuple[str, str], ...]  # (METHOD, resource path), METHOD may be "ANY"
    environment: dict[str, str]
    policies: Any  # resolved with the resolver
    memory_mb: int
    timeout_s: int


def functions(template: Mapping[str, Any], resolver: Resolver | None = None, root: Path = REPO_ROOT) -> list[Function]:
    """Every serverless function; environment resolved with `resolver` (placeholders by default)."""
    resolver = resolver or Resolver(template)
    global_env = _globals(template).get("Environment", {}).get("Variables", {})
    result = []
    for logical_id, props in _function_properties(template, resolver):
        own_env = (template["Resources"][logical_id].get("Properties") or {}).get("Environment", {})
        environment = resolver.resolve({**global_env, **own_env.get("Variables", {})})
        code_dir = (root / props["CodeUri"]).resolve()
        module, _, handler = props["Handler"].rpartition(".")
        result.append(
            Function(
                logical_id=logical_id,
                name=code_dir.name,
                code_dir=code_dir,
                module_file=code_dir.joinpath(*module.split(".")).with_suffix(".py"),
                module=module,
                handler=handler,
                routes=tuple(_api_routes(template, logical_id, props)),
                environment={key: _text(value) for key, value in environment.items()},
                policies=resolver.resolve(props.get("Policies", [])),
                memory_mb=int(resolver.resolve(props.get("MemorySize", 128))),
                timeout_s=int(resolver.resolve(props.get("Timeout", 3))),
            )
        )
    return result


def routes(template: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """(METHOD, resource path) → function name (CodeUri folder) for every Api event and every
    Lambda integration of the API's DefinitionBody."""
    result: dict[tuple[str, str], str] = {}
    for logical_id, props in _function_properties(template):
        for route in _api_routes(template, logical_id, props):
            if route in result:
                raise ValueError(f"route {route} is declared twice ({logical_id})")
            result[route] = Path(props["CodeUri"]).name
    return result


@dataclass(frozen=True)
class Api:
    """The REST API settings the local gateway honours."""

    stage: str
    binary_media_types: tuple[str, ...] = ()
    gateway_responses: Mapping[str, Any] = field(default_factory=dict)


def api(template: Mapping[str, Any], resolver: Resolver | None = None) -> Api:
    """The template's single AWS::Serverless::Api (SAM's implicit API, stage Prod, if none)."""
    resolver = resolver or Resolver(template)
    apis = [
        resolver.resolve(resource.get("Properties") or {})
        for resource in (template.get("Resources") or {}).values()
        if resource.get("Type") == "AWS::Serverless::Api"
    ]
    if len(apis) > 1:
        raise ValueError("the local gateway serves a single AWS::Serverless::Api")
    if not apis:
        return Api(stage="Prod")
    props = apis[0]
    return Api(
        stage=props["StageName"],
        # "~1" is the JSON-pointer escape of "/" that API Gateway requires here.
        binary_media_types=tuple(t.replace("~1", "/") for t in props.get("BinaryMediaTypes", [])),
        gateway_responses=props.get("GatewayResponses", {}),
    )


def layers(template: Mapping[str, Any], root: Path = REPO_ROOT) -> list[Path]:
    """Content directories of the template's layers: what Lambda puts on sys.path."""
    return [
        (root / resource["Properties"]["ContentUri"]).resolve()
        for resource in (template.get("Resources") or {}).values()
        if resource.get("Type") == "AWS::Serverless::LayerVersion"
    ]


def _globals(template: Mapping[str, Any]) -> dict[str, Any]:
    return (template.get("Globals") or {}).get("Function") or {}


def _function_properties(
    template: Mapping[str, Any], resolver: Resolver | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every serverless function the template deploys with these parameters (default: the template's own);
    one whose condition is false, such as the JwtExampleApi example when off, is left out."""
    resolver = resolver or Resolver(template)
    for logical_id, resource in (template.get("Resources") or {}).items():
        if "Condition" in resource and not resolver.condition(resource["Condition"]):
            continue
        if resource.get("Type") == "AWS::Serverless::Function":
            yield logical_id, {**_globals(template), **(resource.get("Properties") or {})}


def _api_routes(template: Mapping[str, Any], logical_id: str, props: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for event in (props.get("Events") or {}).values():
        if event.get("Type") == "Api":
            yield event["Properties"]["Method"].upper(), event["Properties"]["Path"]
    yield from _definition_routes(template).get(logical_id, [])


# A Lambda proxy integration's URI, as the template writes it: !Sub "...functions/${Name.Arn}/invocations".
_INTEGRATED_FUNCTION = re.compile(r"/functions/\$\{(\w+)\.Arn\}/invocations$")
_ANY_METHOD = "x-amazon-apigateway-any-method"


def _definition_routes(template: Mapping[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Function logical id → the (METHOD, resource path) pairs that the API's DefinitionBody
    integrates with it (methods written there rather than as events: the catch-alls)."""
    result: dict[str, list[tuple[str, str]]] = {}
    for resource in (template.get("Resources") or {}).values():
        if resource.get("Type") != "AWS::Serverless::Api":
            continue
        paths = ((resource.get("Properties") or {}).get("DefinitionBody") or {}).get("paths") or {}
        for path, operations in paths.items():
            for method, operation in operations.items():
                if not isinstance(operation, dict):  # a path's own "parameters" list
                    continue
                uri = (operation.get("x-amazon-apigateway-integration") or {}).get("uri")
                found = _INTEGRATED_FUNCTION.search(uri.get("Fn::Sub", "") if isinstance(uri, dict) else str(uri))
                if found:
                    route = ("ANY" if method == _ANY_METHOD else method.upper(), path)
                    result.setdefault(found.group(1), []).append(route)
    return result
