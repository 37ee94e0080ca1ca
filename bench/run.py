"""`python -m bench`: every measurement in one run, printed as tables and written to bench/results/.

Each part runs in its own interpreter (python -m bench.<part>), so one part's imports and emulator
never touch another's figures. Writes bench/results/results.json, docs/performance.md,
docs/performance.png and docs/cost.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

from bench import LAYER, RESULTS, ROOT


def _part(name: str, *args: Any) -> dict[str, Any]:
    """Run python -m bench.<name> ARGS OUT.json; its console goes to bench/results/<name>.log."""
    out, log = RESULTS / f"{name}.json", RESULTS / f"{name}.log"
    print(f"  {name} …", end=" ", flush=True)
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(LAYER)])}
    with log.open("w") as console:
        done = subprocess.run(  # noqa: S603 - this interpreter running a bench module
            [sys.executable, "-m", f"bench.{name}", *map(str, args), str(out)],
            cwd=ROOT,
            env=env,
            stdout=console,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode:
        print("failed")
        raise SystemExit(f"bench.{name} failed; see {log.relative_to(ROOT)}:\n{log.read_text()[-3000:]}")
    print(f"{time.perf_counter() - started:.0f} s", flush=True)
    return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="cold starts per function (default 3)")
    parser.add_argument("--flows", type=int, default=1000, help="MFA sign-in flows in the load test")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients in the load test")
    parser.add_argument("--users", type=int, default=128, help="users seeded for the load test")
    parser.add_argument("--no-docs", action="store_true", help="leave docs/ alone (results only)")
    parser.add_argument("--docs-only", action="store_true", help="rewrite docs/ from bench/results/results.json")
    args = parser.parse_args(argv)

    from bench import cost, report  # after the arguments, so --help is instant

    if args.docs_only:
        results = json.loads((RESULTS / "results.json").read_text())
        results["cost"] = cost.model(results)  # the model may have changed since the run
        _write_docs(results)
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    print("Measuring (each part in its own interpreter; logs in bench/results/):")
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": report.machine(),
        "coldstart": _part("coldstart", args.runs),
        "warm": _part("warm"),
        "hashing": _part("hashing"),
        "load": _part("load", args.flows, args.clients, args.users),
    }
    results["round_trips"] = report.round_trips(results["warm"])
    results["cost"] = cost.model(results)
    results["run_s"] = time.perf_counter() - started
    (RESULTS / "results.json").write_text(json.dumps(results, indent=2))
    print()
    print(report.text(results))
    if not args.no_docs:
        _write_docs(results)
    print(f"Whole run: {results['run_s']:.0f} s")


def _write_docs(results: dict[str, Any]) -> None:
    from bench import cost, report

    report.write_docs(results, ROOT / "docs")
    (ROOT / "docs" / "cost.md").write_text(cost.document(results))
    print("Wrote docs/performance.md, docs/performance.png and docs/cost.md.")
