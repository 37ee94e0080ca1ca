"""The layer is built for template.yaml's Lambda platform, from a lock that pins all of it with hashes.

The build tests run layers/core/Makefile as `sam build` does (a copy of the folder as the working
directory, ARTIFACTS_DIR set) and fetch wheels from the package index, as `sam build` does.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

from local import botocore_data, lambda_platform, template
from tests.conftest import TEMPLATE

LAYER = template.REPO_ROOT / "layers" / "core"
MAKEFILE = LAYER / "Makefile"
ELF_MACHINE = {"aarch64": 183, "x86_64": 62}  # e_machine of the ELF header
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", re.M)


def _name(package: str) -> str:
    return re.sub(r"[-_.]+", "-", package).lower()


def _switched(architecture: str) -> str:
    return lambda_platform.with_architecture(template.TEMPLATE_PATH.read_text(), architecture)


def _build(
    layer_dir: Path, artifacts: Path, template_path: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`sam build`'s call: `make --makefile <original> build-CoreLayer` in a copy of the layer folder."""
    options = [f"TEMPLATE={template_path}"] if template_path else []
    return subprocess.run(
        ["make", "--makefile", str(MAKEFILE), "build-CoreLayer", f"ARTIFACTS_DIR={artifacts}", *options],
        cwd=layer_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _environ() -> dict[str, str]:
    """The test process's environment (the template's, fake AWS credentials) without Python's own."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}


def _copy_layer(destination: Path) -> Path:
    return Path(shutil.copytree(LAYER, destination, ignore=shutil.ignore_patterns("__pycache__")))


def test_the_reader_agrees_with_the_parsed_template():
    for text in (template.TEMPLATE_PATH.read_text(), _switched("x86_64")):
        function_globals = template.parse(text)["Globals"]["Function"]
        platform = lambda_platform.read(text)
        assert (platform.runtime, [platform.architecture]) == (
            function_globals["Runtime"],
            function_globals["Architectures"],
        )


def test_every_function_and_the_layer_declare_the_globals_platform():
    """CloudFormation cannot refer to Globals, so the layer repeats them; no function may differ."""
    platform = lambda_platform.load()
    function_globals = TEMPLATE["Globals"]["Function"]
    for logical_id, resource in TEMPLATE["Resources"].items():
        props = resource.get("Properties") or {}
        if resource["Type"] == "AWS::Serverless::Function":
            merged = {**function_globals, **props}
            assert (merged["Runtime"], merged["Architectures"]) == (platform.runtime, [platform.architecture]), (
                logical_id
            )
        if resource["Type"] == "AWS::Serverless::LayerVersion":
            assert props["CompatibleRuntimes"] == [platform.runtime], logical_id
            assert props["CompatibleArchitectures"] == [platform.architecture], logical_id
            assert resource["Metadata"]["BuildArchitecture"] == platform.architecture, logical_id


@pytest.mark.parametrize(
    ("architecture", "machine", "other"), [("arm64", "aarch64", "x86_64"), ("x86_64", "x86_64", "aarch64")]
)
def test_the_build_and_the_lock_resolve_for_the_template_architecture(architecture, machine, other):
    platform = lambda_platform.read(_switched(architecture))
    pip = " ".join(platform.pip_install_args())
    assert f"--python-version {platform.python_version} --implementation cp" in pip
    assert f"--platform manylinux_2_34_{machine}" in pip and f"--platform manylinux2014_{machine}" in pip
    assert other not in pip
    assert pip.endswith(f"-r {lambda_platform.LOCK}")
    assert platform.uv_compile_args() == [
        "--python-version",
        platform.python_version,
        "--python-platform",
        f"{machine}-manylinux_2_34",
    ]


def _lock() -> tuple[str, dict[str, str]]:
    text = (LAYER / lambda_platform.LOCK).read_text()
    return text, {_name(name): version for name, version in PIN.findall(text)}


def test_the_lock_pins_requirements_txt_and_everything_it_needs_with_hashes():
    text, locked = _lock()
    direct = {_name(name): version for name, version in PIN.findall((LAYER / "requirements.txt").read_text())}
    assert direct and {name: locked.get(name) for name in direct} == direct
    entries = re.split(r"(?m)^(?=[A-Za-z0-9])", text.split("\n", 3)[-1])
    entries = [entry for entry in entries if PIN.match(entry)]
    assert len(entries) == len(locked)
    for entry in entries:
        name = _name(PIN.match(entry).group(1))
        assert "--hash=sha256:" in entry, name
        via = " ".join(line.strip(" #") for line in entry.splitlines() if line.lstrip().startswith("#")).split()
        parents = {_name(word) for word in via if word not in ("via", "-r", "requirements.txt")}
        assert ("requirements.txt" in via) == (name in direct), name  # stale when requirements.txt changed
        assert parents <= set(locked), name  # every package needing this one is in the lock


def test_the_lock_was_resolved_for_the_template_python_on_both_architectures():
    text, _ = _lock()
    platform = lambda_platform.load()
    header = [line for line in text.splitlines() if line.startswith("#   ")]
    for architecture in sorted(lambda_platform.MACHINES):
        args = lambda_platform.LambdaPlatform(platform.runtime, architecture).uv_compile_args()
        assert any(line.startswith(f"#   {architecture}: ") and line.endswith(" ".join(args)) for line in header), (
            f"requirements.lock is not resolved for {platform.runtime} on {architecture}: run `make lock`"
        )


@pytest.mark.parametrize("architecture", sorted(lambda_platform.MACHINES))
def test_switching_the_template_architecture_builds_a_layer_for_it(tmp_path, architecture):
    """Every compiled module of the built layer is for the template's CPU and Python."""
    template_path = tmp_path / "template.yaml"
    template_path.write_text(_switched(architecture))
    artifacts = tmp_path / "artifacts"
    built = _build(_copy_layer(tmp_path / "src"), artifacts, template_path)
    assert built.returncode == 0, built.stderr[-2000:]
    machine = lambda_platform.MACHINES[architecture]
    cp = "cp" + lambda_platform.load().python_version.replace(".", "")
    site = artifacts / "python"
    assert (site / "authcore" / "__init__.py").is_file()
    shared_objects = sorted(site.rglob("*.so"))
    assert shared_objects
    for path in shared_objects:
        assert int.from_bytes(path.read_bytes()[18:20], "little") == ELF_MACHINE[machine], path.name
        assert path.name.endswith((".abi3.so", f".cpython-{cp[2:]}-{machine}-linux-gnu.so")), path.name
    for wheel in site.glob("*.dist-info/WHEEL"):
        for tag in re.findall(r"^Tag: (\S+)$", wheel.read_text(), re.M):
            python, _, platform = tag.split("-")
            assert platform == "any" or platform.endswith(f"_{machine}"), (wheel.parent.name, tag)
            assert platform == "any" or python == cp or tag.split("-")[1] == "abi3", (wheel.parent.name, tag)
    installed = {_name(path.name.split("-")[0]) for path in site.glob("*.dist-info")}
    assert installed == set(_lock()[1])  # --no-deps: exactly the lock, nothing resolved at build time


def _runtime_python() -> tuple[str, str]:
    """This machine's interpreter of the runtime's Python version and its bytecode magic number (hex)."""
    python = lambda_platform.interpreter(lambda_platform.load().python_version)
    magic = subprocess.run(
        [python, "-c", "import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return python, magic.stdout.strip()


@pytest.fixture(scope="module")
def host_layer(tmp_path_factory) -> Path:
    """The layer built for this machine's CPU (so it runs here), as `sam build` builds it: its python/ dir."""
    workdir = tmp_path_factory.mktemp("host-layer")
    template_path = workdir / "template.yaml"
    template_path.write_text(_switched(lambda_platform.host_architecture()))
    built = _build(_copy_layer(workdir / "src"), workdir / "artifacts", template_path)
    assert built.returncode == 0, built.stderr[-2000:]
    return workdir / "artifacts" / "python"


def test_the_layer_ships_bytecode_of_the_runtime_python_for_every_module(host_layer):
    """/opt is read-only on Lambda: every .py has its .pyc, for the runtime's magic number, hash-based and
    unchecked (flags 0b01), so a cold start never compiles, whatever mtimes the zip gives the files.
    Built for this machine's CPU, so the layer runs here: a module whose source is replaced (newer
    mtime, other size and hash) still imports its shipped bytecode."""
    python, magic = _runtime_python()
    site = host_layer
    tag = f"cpython-{lambda_platform.load().python_version.replace('.', '')}"
    sources = sorted(site.rglob("*.py"))
    assert len(sources) > 500 and any(path.parts[-2:] == ("authcore", "__init__.py") for path in sources)
    for source in sources:
        compiled = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        header = compiled.read_bytes()[:8]
        assert header[:4].hex() == magic, compiled
        assert int.from_bytes(header[4:8], "little") == 0b01, compiled  # hash-based, source never checked
    (site / "pyotp" / "__init__.py").write_text("raise SystemExit('compiled from source')\n")
    run = subprocess.run(
        [python, "-c", "import pyotp; print(pyotp.random_base32() != '')"],
        env={**_environ(), "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (run.returncode, run.stdout.strip()) == (0, "True"), run.stderr[-2000:]


def _client_services() -> set[str]:
    """The AWS services the deployed code creates clients for: every `create("<service>")` or
    `client("<service>")` call (awsclient.create, delivery.aws.client) in authcore and the functions."""
    services, dynamic = set(), set()
    for path in [*(LAYER / "authcore").rglob("*.py"), *(template.REPO_ROOT / "functions").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            func = getattr(node, "func", None)
            name = getattr(func, "attr", getattr(func, "id", None))
            if name == "create":  # awsclient.create, not any other module's create
                name = "client" if getattr(getattr(func, "value", None), "id", None) == "awsclient" else None
            if not isinstance(node, ast.Call) or name != "client" or not node.args:
                continue
            if isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                services.add(node.args[0].value)
            else:
                dynamic.add(path.relative_to(template.REPO_ROOT).as_posix())
    assert dynamic == {"layers/core/authcore/delivery/aws.py"}, dynamic  # only its wrapper, called with literal names
    return services


def test_the_layer_vendors_botocore_trimmed_to_the_services_the_code_calls(host_layer):
    """The layer's botocore keeps the data of exactly the services a client is created for (a new one
    in the code fails here until layers/core/Makefile's BOTOCORE_SERVICES lists it), and its
    endpoints.json describes only those services' endpoint prefixes, in every partition."""
    services = _client_services()
    assert {"dynamodb", "kms", "sesv2", "sns", "secretsmanager"} <= services
    data = host_layer / "botocore" / "data"
    assert {path.name for path in data.iterdir() if path.is_dir()} == services
    prefixes = set().union(*(botocore_data.endpoint_prefixes(data / service) for service in services))
    endpoints = json.loads((data / "endpoints.json").read_text())
    assert {name for partition in endpoints["partitions"] for name in partition["services"]} == prefixes
    assert len(endpoints["partitions"]) > 5  # aws, aws-cn, aws-us-gov, the isolated ones


ENDPOINTS = """
import json, boto3, botocore
from botocore.config import Config


class Sent(Exception):
    pass


def stop(request, **_):
    raise Sent(request.url, request.headers["Authorization"].decode().split("/")[2])  # the signing region


def first_request(client):
    \"\"\"Where the client's first operation that needs no input goes, and what it is signed for.\"\"\"
    model = client.meta.service_model
    for name in model.operation_names:
        shape = model.operation_model(name).input_shape
        if shape is None or not shape.required_members:
            client.meta.events.register("before-send", stop)
            try:
                getattr(client, botocore.xform_name(name))()
            except Sent as sent:
                return [name, *sent.args]


resolved = {}
for service in SERVICES:
    for region in REGIONS:
        for variant, config in (("", Config()), (" fips", Config(use_fips_endpoint=True))):
            try:
                client = boto3.client(service, region_name=region, config=config)
                found = [client.meta.endpoint_url, client.meta.partition, first_request(client)]
            except Exception as error:
                found = type(error).__name__
            resolved[f"{service} {region}{variant}"] = found
print(json.dumps({"botocore": [botocore.__version__, botocore.__file__], "resolved": resolved}))
"""


def test_the_trimmed_botocore_resolves_every_endpoint_as_the_full_one(host_layer, tmp_path):
    """The layer's botocore is the one imported, not the runtime's own after it (Lambda puts /opt/python
    first on sys.path; here the development venv's boto3 plays the runtime's), and each kept service's
    client resolves the endpoint the untrimmed botocore of the development venv resolves (the same
    version), in every partition's regions, FIPS or not: the client's endpoint and its first request's
    URL and signing region."""
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    for package in lambda_platform.RUNTIME_PACKAGES:
        origin = Path(find_spec(package).origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (runtime / source.name).symlink_to(source)
    services = sorted(_client_services())
    regions = ["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1", "us-isob-east-1"]
    script = f"SERVICES = {services!r}\nREGIONS = {regions!r}\n" + ENDPOINTS
    environment = {
        "PATH": os.environ["PATH"],
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "PYTHONDONTWRITEBYTECODE": "1",  # nothing written into the development venv
    }
    layer_first = f"import sys; sys.path[:0] = {[str(host_layer), str(runtime)]!r}\n"
    runs = [[sys.executable, "-c", script], [_runtime_python()[0], "-S", "-c", layer_first + script]]
    full, layer = [
        json.loads(subprocess.run(argv, env=environment, capture_output=True, text=True, check=True).stdout)
        for argv in runs
    ]
    assert Path(layer["botocore"][1]).is_relative_to(host_layer)
    assert layer["botocore"][0] == full["botocore"][0]
    assert layer["resolved"] == full["resolved"]
    assert full["resolved"]["sesv2 cn-north-1"][:2] == ["https://email.cn-north-1.amazonaws.com.cn", "aws-cn"]
    assert full["resolved"]["kms us-gov-west-1 fips"][2][1:] == [
        "https://kms-fips.us-gov-west-1.amazonaws.com/",
        "us-gov-west-1",
    ]


def test_the_build_stops_loudly_without_the_runtime_python(tmp_path):
    """No bytecode of the wrong version, no layer without bytecode: the build says how to get the Python."""
    build = _build(_copy_layer(tmp_path / "src"), tmp_path / "artifacts", env={**os.environ, "RUNTIME_PYTHON": "false"})
    assert build.returncode != 0
    version = lambda_platform.load().python_version
    assert f"No Python {version} on this machine" in build.stderr
    assert f"apt-get install python{version}" in build.stderr
    assert not (tmp_path / "artifacts" / "python").exists()  # stopped before fetching anything


def test_the_build_refuses_a_wheel_whose_hash_is_not_in_the_lock(tmp_path):
    layer = _copy_layer(tmp_path / "src")
    lock = layer / lambda_platform.LOCK
    text = lock.read_text()
    start = text.index("\npyotp==")
    end = text.index("\n    #", start)
    lock.write_text(text[:start] + re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, text[start:end]) + text[end:])
    built = _build(layer, tmp_path / "artifacts")
    assert built.returncode != 0
    assert "DO NOT MATCH THE HASHES" in built.stderr


# Run with `python -S`: the standard library, then only the paths given.
IMPORT_ALL = """
import importlib, importlib.util, sys
sys.path[:0] = PATHS
for name, path, handler in FUNCTIONS:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(getattr(module, handler)), name
for name in LAZY:
    importlib.import_module(name)
print(len(FUNCTIONS), len(LAZY))
"""


def _imported_packages(paths: list[Path]) -> set[str]:
    """Top-level names of every absolute import in `paths`, those made on first use included."""
    names = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"__future__"}


def test_every_function_imports_from_the_built_layer_alone(tmp_path):
    """The lock installed for this machine's Python, authcore as the build copies it and each function's
    code: nothing from the test environment, not even the Lambda runtime's boto3 (the layer vendors its
    own). Every package authcore imports on first use (argon2, phonenumbers, email_validator, …) is
    imported too."""
    site = tmp_path / "python"
    pip = ["pip", "install", "--quiet", "--require-hashes", "--no-deps", "--only-binary=:all:", "--target", str(site)]
    install = subprocess.run(
        [sys.executable, "-m", *pip, "-r", str(LAYER / lambda_platform.LOCK)],
        env={**_environ(), "PIP_CONSTRAINT": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    shutil.copytree(LAYER / "authcore", site / "authcore", ignore=shutil.ignore_patterns("__pycache__"))
    functions = template.functions(TEMPLATE, template.Resolver(TEMPLATE, template.DEV_PARAMETERS))
    cases = [(f.name, str(f.module_file), f.handler) for f in functions]
    lazy = sorted(_imported_packages([*(LAYER / "authcore").rglob("*.py"), *(f.module_file for f in functions)]))
    assert {"argon2", "phonenumbers", "email_validator", "pydantic"} <= set(lazy)
    prelude = f"PATHS = {[str(site)]!r}\nFUNCTIONS = {cases!r}\nLAZY = {lazy!r}\n"
    run = subprocess.run(
        [sys.executable, "-S", "-c", prelude + IMPORT_ALL],
        env={**_environ(), **functions[0].environment, "AWS_DEFAULT_REGION": template.REGION},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split() == [str(len(functions)), str(len(lazy))]
