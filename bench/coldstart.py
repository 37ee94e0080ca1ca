"""Cold start per function, against the floor `import boto3; boto3.client('dynamodb')`, as Lambda runs it.

What is measured is what the layer build ships: layers/core/Makefile (the recipe `sam build` runs)
builds the layer for this machine's CPU and the runtime's Python version (template.yaml, read by
local/lambda_platform.py), the functions' folders are copied as `sam build` copies them, and boto3
comes from the bench's environment compiled by that Python, as the Lambda runtime ships its own (the
floor uses it; a function finds the layer's own trimmed botocore first, as on Lambda).
The measured interpreters (bench/child.py) get PYTHONDONTWRITEBYTECODE=1 in a tree made fresh for
the run, so like on Lambda's read-only /opt and /var/task nothing compiled at one cold start helps the
next. Each reports its CPU time up to the end of its first request (no interpreter teardown).

Three setups, each with its own floor in the same run, walks interleaved:
- `deployed`: the build as shipped, bytecode and all.
- `no_bytecode`: the same build without its .pyc (the layer before it shipped bytecode).
- `host`: the source tree in the development venv (the host's Python, its .pyc cache), as
  `make dev` and the tests run it.

AWS is moto in server mode (a thread of this process on a local port; AWS_ENDPOINT_URL points the
functions at it), so the measured interpreters import nothing but what the function imports. It
backs up only the partitions a transaction touches (bench/stack.py): moto copies the whole table,
and by the later walks a transaction outlasted the DynamoDB client's 5 s read timeout, whose retry
then failed its condition (moto ignores the idempotency token DynamoDB honours).
The walk (bench/harness.py) runs the first call of every function in a fresh interpreter and every
other call in this process, so each first request meets real state: a session that exists, a
challenge that waits, a code that was sent.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from bench import LAYER, ROOT
from bench.harness import FUNCTIONS, NEEDS_PROVIDER, Api, use_template_log_level, walk
from local import lambda_platform

CHILD = Path(__file__).with_name("child.py")
AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION")
NO_CACHE = {"PYTHONDONTWRITEBYTECODE": "1"}


@dataclass(frozen=True)
class Setup:
    """One way of running the functions: which interpreter, which code, which boto3."""

    name: str
    python: str
    functions: Path  # holds one folder per function (its CodeUri)
    paths: tuple[Path, ...]  # after the function's folder: the layer, the runtime's packages
    environment: dict[str, str] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(argv: list[str], cwd: Path | None = None) -> None:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")


def build(workdir: Path) -> list[Setup]:
    """The layer and the functions as the build ships them, for this machine's CPU; the setups to run."""
    platform = lambda_platform.load()
    python = lambda_platform.interpreter(platform.python_version)  # says how to get it when missing
    template_path = workdir / "template.yaml"  # the template, for this machine's CPU
    template = lambda_platform.TEMPLATE_PATH.read_text()
    template_path.write_text(lambda_platform.with_architecture(template, lambda_platform.host_architecture()))
    source = Path(shutil.copytree(LAYER, workdir / "layer-source", ignore=shutil.ignore_patterns("__pycache__")))
    deployed = workdir / "deployed"
    makefile = str(LAYER / "Makefile")
    _run(["make", "--makefile", makefile, "build-CoreLayer", f"ARTIFACTS_DIR={deployed / 'layer'}",
          f"TEMPLATE={template_path}"], cwd=source)  # fmt: skip
    functions = Path(shutil.copytree(ROOT / "functions", deployed / "functions",
                                     ignore=shutil.ignore_patterns("__pycache__")))  # fmt: skip
    stripped = Path(shutil.copytree(deployed / "layer", workdir / "no-bytecode" / "layer",
                                    ignore=shutil.ignore_patterns("__pycache__")))  # fmt: skip
    runtime = workdir / "runtime"  # what the Lambda runtime adds: boto3 and its needs, compiled
    for package in lambda_platform.RUNTIME_PACKAGES:
        origin = Path(find_spec(package).origin)
        if origin.name == "__init__.py":
            shutil.copytree(origin.parent, runtime / origin.parent.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            runtime.mkdir(exist_ok=True)
            shutil.copy2(origin, runtime / origin.name)
    _run([python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(runtime)])
    return [
        Setup("deployed", python, functions, (deployed / "layer" / "python", runtime), NO_CACHE),
        Setup("no_bytecode", python, functions, (stripped / "python", runtime), NO_CACHE),
        Setup("host", sys.executable, ROOT / "functions", (LAYER,)),
    ]


def _base_environment(endpoint: str) -> dict[str, str]:
    """What every measured interpreter gets: PATH, the fake credentials and region, the emulator's URL."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "AWS_ENDPOINT_URL": endpoint,
        **{name: os.environ[name] for name in AWS_VARIABLES},
    }


def _child(python: str, args: list[str], env: dict[str, str], result: Path) -> dict[str, Any]:
    """Run bench/child.py; its own figures, with the wall time from here to the end of its measured work.

    CPU time is what the comparisons use: on a shared machine wall time also counts waiting for a core.
    """
    with tempfile.TemporaryFile("w+") as errors:
        started = time.perf_counter()
        child = subprocess.run([python, str(CHILD), *args, str(result)], env=env,  # noqa: S603
                               stdout=subprocess.DEVNULL, stderr=errors, check=False)  # fmt: skip
        if child.returncode:
            errors.seek(0)
            raise RuntimeError(f"{python} {args} failed:\n{errors.read()[-2000:]}")
    figures = json.loads(result.read_text())
    figures["wall_ms"] = (figures.pop("done") - started) * 1000
    return figures


class ColdStarts:
    """Dispatches each function's first call of a walk to a fresh interpreter and records its figures."""

    def __init__(self, endpoint: str, workdir: Path) -> None:
        from local.gateway import load_handler

        self.base = _base_environment(endpoint)
        self.workdir = workdir
        self.load_handler = load_handler
        self.samples: dict[str, dict[str, list[dict[str, Any]]]] = {}  # setup -> function -> samples
        self.floor: dict[str, list[dict[str, Any]]] = {}  # setup -> samples
        self.fresh: set[str] = set()
        self.setup: Setup | None = None

    def measure_floor(self, setup: Setup) -> None:
        env = {**self.base, **setup.environment, "PYTHONPATH": os.pathsep.join(map(str, setup.paths[1:]))}
        sample = _child(setup.python, ["--floor"], env, self.workdir / "floor.json")
        self.floor.setdefault(setup.name, []).append(sample)

    def dispatch(self, function: Any, event: dict[str, Any], context: Any) -> dict[str, Any]:
        if function.name not in self.fresh:
            return self.load_handler(function)(event, context)
        self.fresh.discard(function.name)
        setup = self.setup
        request, result = self.workdir / "request.json", self.workdir / "result.json"
        request.write_text(
            json.dumps(
                {
                    "module": function.module,
                    "handler": function.handler,
                    "event": event,
                    "context": {
                        "function_name": function.logical_id,
                        "function_version": "$LATEST",
                        "invoked_function_arn": context.invoked_function_arn,
                        "memory_limit_in_mb": function.memory_mb,
                        "aws_request_id": context.aws_request_id,
                        "timeout_s": function.timeout_s,
                    },
                }
            )
        )
        paths = [setup.functions / function.code_dir.name, *setup.paths]  # Lambda's order: /var/task, /opt/python
        env = {**self.base, **function.environment, **setup.environment, "PYTHONPATH": os.pathsep.join(map(str, paths))}
        figures = _child(setup.python, [str(request)], env, result)
        answer = figures.pop("result")
        self.samples.setdefault(setup.name, {}).setdefault(function.name, []).append(
            {"status": answer["statusCode"], **figures}
        )
        return answer


def _summary(floor: list[dict[str, Any]], samples: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    floor_cpu = statistics.median(s["cpu_ms"] for s in floor)
    floor_wall = statistics.median(s["wall_ms"] for s in floor)
    functions = {}
    for name, runs in sorted(samples.items()):
        cpu = statistics.median(s["cpu_ms"] for s in runs)
        wall = statistics.median(s["wall_ms"] for s in runs)
        functions[name] = {
            "cpu_ms": cpu,
            "ratio": cpu / floor_cpu,
            "wall_ms": wall,
            "wall_ratio": wall / floor_wall,
            "import_ms": statistics.median(s["import_ms"] for s in runs),
            "first_request_ms": statistics.median(s["first_request_ms"] for s in runs),
            "peak_rss_mib": statistics.median(s["peak_rss_kib"] for s in runs) / 1024,
            "statuses": sorted({s["status"] for s in runs}),
            "cpu_samples_ms": [round(s["cpu_ms"], 1) for s in runs],
        }
    return {
        "floor_cpu_ms": floor_cpu,
        "floor_wall_ms": floor_wall,
        "floor_peak_rss_mib": statistics.median(s["peak_rss_kib"] for s in floor) / 1024,
        "floor_cpu_samples_ms": [round(s["cpu_ms"], 1) for s in floor],
        "functions": functions,
    }


def measure(runs: int) -> dict[str, Any]:
    """`runs` rounds of one walk per setup; in each walk, every function's first call is a cold start.

    The top level is the `deployed` setup's figures; `setups` has every setup's."""
    from moto.server import ThreadedMotoServer

    from bench.stack import partition_backups
    from local import aws, template
    from tests.conftest import TEMPLATE

    partition_backups()
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint  # this process's own calls go to the emulator too
    use_template_log_level()
    try:
        aws.create_resources(TEMPLATE, template.Resolver(TEMPLATE, template.DEV_PARAMETERS))
        with tempfile.TemporaryDirectory() as workdir:
            setups = build(Path(workdir))
            cold = ColdStarts(endpoint, Path(workdir))
            for run in range(runs):
                for number, setup in enumerate(setups):
                    cold.setup = setup
                    cold.measure_floor(setup)
                    cold.fresh = set(FUNCTIONS) - NEEDS_PROVIDER
                    walk_id = run * len(setups) + number
                    walk(Api(cold.dispatch, ip=f"10.0.{walk_id}.1"), walk_id)
                    if cold.fresh:
                        raise RuntimeError(f"the walk did not call {sorted(cold.fresh)}")
                    cold.measure_floor(setup)
    finally:
        server.stop()
        os.environ.pop("AWS_ENDPOINT_URL", None)
    platform = lambda_platform.load()
    summaries = {setup.name: _summary(cold.floor[setup.name], cold.samples[setup.name]) for setup in setups}
    return {
        "runs": runs,
        "python": platform.python_version,
        "architecture": lambda_platform.host_architecture(),
        "host_python": "{}.{}".format(*sys.version_info[:2]),
        **summaries["deployed"],
        "setups": summaries,
    }


if __name__ == "__main__":  # python -m bench.coldstart RUNS OUT.json
    figures = measure(int(sys.argv[1]))
    with open(sys.argv[2], "w") as out:
        json.dump(figures, out, indent=2)
