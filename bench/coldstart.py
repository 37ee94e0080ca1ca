"""Cold start per function, against the floor `python -c "import boto3; boto3.client('dynamodb')"`.

AWS is moto in server mode (a thread of this process on a local port; AWS_ENDPOINT_URL points the
functions at it), so the measured interpreters import nothing but what the function imports.
The walk (bench/harness.py) runs the first call of every function in a fresh interpreter
(bench/child.py) and every other call in this process, so each first request meets real state:
a session that exists, a challenge that waits, a code that was sent.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import LAYER
from bench.harness import FUNCTIONS, Api, use_template_log_level, walk

CHILD = Path(__file__).with_name("child.py")
FLOOR = "import boto3; boto3.client('dynamodb')"
AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _base_environment(endpoint: str) -> dict[str, str]:
    """What every measured interpreter gets: PATH, the fake credentials and region, the emulator's URL."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "AWS_ENDPOINT_URL": endpoint,
        **{name: os.environ[name] for name in AWS_VARIABLES},
    }


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, ms) of a whole interpreter: start, import, work, exit.

    CPU time is what the comparison uses: on a shared machine wall time also counts waiting for a core.
    """
    with tempfile.TemporaryFile("w+") as errors:
        started = time.perf_counter()
        child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=errors)  # noqa: S603
        _, status, usage = os.wait4(child.pid, 0)
        wall = (time.perf_counter() - started) * 1000
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            errors.seek(0)
            raise RuntimeError(f"{argv[1:]} failed:\n{errors.read()[-2000:]}")
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


class ColdStarts:
    """Dispatches each function's first call of a walk to a fresh interpreter and records its figures."""

    def __init__(self, endpoint: str, workdir: Path) -> None:
        from local.gateway import load_handler

        self.base = _base_environment(endpoint)
        self.workdir = workdir
        self.load_handler = load_handler
        self.samples: dict[str, list[dict[str, Any]]] = {name: [] for name in FUNCTIONS}
        self.floor: list[tuple[float, float]] = []  # (wall, cpu) ms
        self.fresh: set[str] = set()

    def measure_floor(self) -> None:
        self.floor.append(_timed([sys.executable, "-c", FLOOR], self.base))

    def dispatch(self, function: Any, event: dict[str, Any], context: Any) -> dict[str, Any]:
        if function.name not in self.fresh:
            return self.load_handler(function)(event, context)
        self.fresh.discard(function.name)
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
        env = {**self.base, **function.environment, "PYTHONPATH": f"{LAYER}{os.pathsep}{function.code_dir}"}
        wall_ms, cpu_ms = _timed([sys.executable, str(CHILD), str(request), str(result)], env)
        figures = json.loads(result.read_text())
        answer = figures.pop("result")
        self.samples[function.name].append(
            {"wall_ms": wall_ms, "cpu_ms": cpu_ms, "status": answer["statusCode"], **figures}
        )
        return answer


def measure(runs: int) -> dict[str, Any]:
    """`runs` walks; in each, every function's first call is a cold start. Returns the figures per function."""
    from moto.server import ThreadedMotoServer

    from local import aws, template
    from tests.conftest import TEMPLATE

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint  # this process's own calls go to the emulator too
    use_template_log_level()
    try:
        aws.create_resources(TEMPLATE, template.Resolver(TEMPLATE, template.DEV_PARAMETERS))
        with tempfile.TemporaryDirectory() as workdir:
            cold = ColdStarts(endpoint, Path(workdir))
            for run in range(runs):
                cold.measure_floor()
                cold.fresh = set(FUNCTIONS)
                walk(Api(cold.dispatch, ip=f"10.0.{run}.1"), run)
                missed = cold.fresh
                if missed:
                    raise RuntimeError(f"the walk did not call {sorted(missed)}")
                cold.measure_floor()
    finally:
        server.stop()
        os.environ.pop("AWS_ENDPOINT_URL", None)
    floor_cpu = statistics.median(cpu for _, cpu in cold.floor)
    floor_wall = statistics.median(wall for wall, _ in cold.floor)
    functions = {}
    for name, samples in sorted(cold.samples.items()):
        cpu = statistics.median(s["cpu_ms"] for s in samples)
        wall = statistics.median(s["wall_ms"] for s in samples)
        functions[name] = {
            "cpu_ms": cpu,
            "ratio": cpu / floor_cpu,
            "wall_ms": wall,
            "wall_ratio": wall / floor_wall,
            "import_ms": statistics.median(s["import_ms"] for s in samples),
            "first_request_ms": statistics.median(s["first_request_ms"] for s in samples),
            "peak_rss_mib": statistics.median(s["peak_rss_kib"] for s in samples) / 1024,
            "statuses": sorted({s["status"] for s in samples}),
            "cpu_samples_ms": [round(s["cpu_ms"], 1) for s in samples],
        }
    return {
        "runs": runs,
        "floor_cpu_ms": floor_cpu,
        "floor_wall_ms": floor_wall,
        "floor_cpu_samples_ms": [round(cpu, 1) for _, cpu in cold.floor],
        "functions": functions,
    }


if __name__ == "__main__":  # python -m bench.coldstart RUNS OUT.json
    figures = measure(int(sys.argv[1]))
    with open(sys.argv[2], "w") as out:
        json.dump(figures, out, indent=2)
