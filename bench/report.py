"""Tables, the headline figures, the chart (docs/performance.png) and docs/performance.md."""

from __future__ import annotations

import os
import platform
import statistics
import sys
from pathlib import Path
from typing import Any

from local import lambda_platform

# Issue 16's goals: cold start as deployed at most 1.5x the floor for every function and 1.3x at the
# median (stretch 1.25x everywhere); our code at most 0.5 ms per warm request where no password is hashed.
COLD_GOAL, COLD_MEDIAN_GOAL, COLD_STRETCH, WARM_GOAL_MS = 1.5, 1.3, 1.25, 0.5
SETUPS = {  # bench/coldstart.py's setups, as the tables name them
    "deployed": "as deployed",
    "no_bytecode": "no bytecode (before)",
    "host": "host tree",
}

# ARCHITECTURE.md §3: DynamoDB calls per request.
BUDGETS = {
    "get_account": 1,
    "get_prefs": 1,
    "list_mfa_factors": 1,
    "get_mfa_recovery_codes": 1,
    "create_email_password_session": 3,
    "create_mfa_challenge": 2,
    "update_mfa_challenge": 2,
    "update_mfa_authenticator": 2,
}


def machine() -> dict[str, Any]:
    model = ""
    if Path("/proc/cpuinfo").exists():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "cpu model")):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "load_average_at_start": os.getloadavg()[0],
    }


def round_trips(warm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Measured AWS calls per endpoint (first call, from a fresh container) beside the tests' counts and budgets."""
    from tests.integration.test_round_trips import EXPECTED

    table = {}
    for name, endpoint in warm["endpoints"].items():
        calls = endpoint["aws_calls"]
        dynamodb = [call.split(":", 1)[1] for call in calls if call.startswith("dynamodb:")]
        table[name] = {
            "dynamodb": dynamodb,
            "tested": EXPECTED.get(name),
            "budget": BUDGETS.get(name),
            "other": [call for call in calls if not call.startswith("dynamodb:")],
        }
    return table


def _ratios(setup: dict[str, Any], argon2: dict[str, float]) -> dict[str, Any]:
    ratios = {name: figures["ratio"] for name, figures in setup["functions"].items()}
    worst = max(ratios, key=ratios.__getitem__)
    over = sorted(n for n, r in ratios.items() if r > COLD_GOAL)
    return {
        "floor_cpu_ms": setup["floor_cpu_ms"],
        "median": statistics.median(ratios.values()),
        "worst": (worst, ratios[worst]),
        "over_goal": over,
        "over_goal_by_the_hash": [n for n in over if _less_argon2(setup, n, argon2) <= COLD_GOAL],
    }


def _argon2_ms(results: dict[str, Any]) -> dict[str, float]:
    """CPU of the password hashes a request makes (bench/warm.py), per endpoint that hashes one."""
    return {n: e["argon2_ms"] for n, e in results["warm"]["endpoints"].items() if e["hashes_password"]}


def _less_argon2(setup: dict[str, Any], name: str, argon2: dict[str, float]) -> float:
    """The cold start's ratio to the floor without the CPU of its password hashes: the work the
    request is for, deliberately slow (security.md), not start-up cost."""
    return (setup["functions"][name]["cpu_ms"] - argon2.get(name, 0.0)) / setup["floor_cpu_ms"]


def headline(results: dict[str, Any]) -> dict[str, Any]:
    cold = results["coldstart"]["functions"]
    ratios = {name: figures["ratio"] for name, figures in cold.items()}
    worst_cold = max(ratios, key=ratios.__getitem__)
    warm = {n: e for n, e in results["warm"]["endpoints"].items() if not e["hashes_password"]}
    worst_warm = max(warm, key=lambda n: warm[n]["without_sdk_ms"])
    load, cost = results["load"], results["cost"]
    return {
        "floor_cpu_ms": results["coldstart"]["floor_cpu_ms"],
        "worst_cold": (worst_cold, ratios[worst_cold]),
        "median_cold_ratio": statistics.median(ratios.values()),
        "over_cold_goal": sorted(n for n, r in ratios.items() if r > COLD_GOAL),
        "setups": {name: _ratios(setup, _argon2_ms(results)) for name, setup in results["coldstart"]["setups"].items()},
        "worst_warm": (worst_warm, warm[worst_warm]["without_sdk_ms"], warm[worst_warm]["median_ms"]),
        "over_warm_goal": sorted(n for n, e in warm.items() if e["without_sdk_ms"] > WARM_GOAL_MS),
        "load": load,
        "cost_10k": cost["tiers"][0],
    }


def _ms(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def summary_table(results: dict[str, Any]) -> str:
    top = headline(results)
    load, tier = top["load"], top["cost_10k"]
    sign_in = results["cost"]["per_request"]["create_email_password_session"]
    count = len(results["coldstart"]["functions"])
    rows = [
        [
            f"Cold start, {SETUPS[name]}: median / worst ratio to its floor",
            f"{setup['median']:.2f}x / {setup['worst'][1]:.2f}x ({setup['worst'][0]}); floor "
            f"{setup['floor_cpu_ms']:.0f} ms CPU; {len(setup['over_goal'])} of {count} over 1.5x"
            + (
                f" ({len(setup['over_goal_by_the_hash'])} of them only by Argon2)"
                if setup["over_goal_by_the_hash"]
                else ""
            ),
        ]
        for name, setup in top["setups"].items()
    ]
    rows += [
        [
            "Warm overhead, worst (no password hash)",
            f"{top['worst_warm'][1]:.2f} ms our code, {top['worst_warm'][2]:.2f} ms with the SDK "
            f"({top['worst_warm'][0]})",
        ],
        [f"Endpoints over {WARM_GOAL_MS} ms (our code)", f"{len(top['over_warm_goal'])}"],
        [
            "Argon2id hash / verify",
            f"{results['hashing']['hash_ms']:.0f} / {results['hashing']['verify_ms']:.0f} ms CPU",
        ],
        [
            "Load (local stack)",
            f"{load['flows']} MFA flows, {load['clients']} clients: {load['errors']} errors, "
            f"{load['flows_per_s']:.1f} flows/s, p50 {_ms(load['p50_ms'])} ms, p99 {_ms(load['p99_ms'])} ms",
        ],
        [
            "Sign-in deployed (cost.md model: its MemorySize, DynamoDB waits assumed)",
            f"{sign_in['latency_ms']:.0f} ms warm, {sign_in['cold_start_ms']:.0f} ms from a cold start at "
            f"{sign_in['memory_mb']:,} MB",
        ],
        [
            "Cost per month at 10k MAU",
            f"${tier['total']:.2f} (TOTP) vs Cognito Lite ${tier['cognito_lite_list']:.2f}, "
            f"Essentials ${tier['cognito_essentials_list']:.2f} without Cognito's 10k-MAU free tier "
            f"(${tier['cognito_lite']:.2f} / ${tier['cognito_essentials']:.2f} with it)",
        ],
    ]
    return table(["figure", "value"], rows)


def cold_table(results: dict[str, Any]) -> str:
    """Per function: the deployed setup's figures, and each other setup's ratio to its own floor."""
    cold = results["coldstart"]
    others = [name for name in cold["setups"] if name != "deployed"]
    argon2 = _argon2_ms(results)

    def ratio(value: float) -> str:
        return f"{value:.2f}x" + (" ⚠" if value > COLD_GOAL else "")

    rows = [
        [
            f"`{name}`",
            _ms(f["cpu_ms"]),
            ratio(f["ratio"]),
            ratio(_less_argon2(cold, name, argon2)) if name in argon2 else "",
            *(ratio(cold["setups"][other]["functions"][name]["ratio"]) for other in others),
            _ms(f["wall_ms"]),
            _ms(f["import_ms"]),
            _ms(f["first_request_ms"]),
            f"{f['peak_rss_mib']:.0f}",
            "/".join(map(str, f["statuses"])),
        ]
        for name, f in cold["functions"].items()
    ]
    floors = ", ".join(f"{SETUPS[name]} {_ms(setup['floor_cpu_ms'])}" for name, setup in cold["setups"].items())
    rows.insert(
        0, [f"**floor** (CPU ms: {floors})", _ms(cold["floor_cpu_ms"]), "1.00x", "", *("1.00x" for _ in others),
            _ms(cold["floor_wall_ms"]), "", "", f"{cold['floor_peak_rss_mib']:.0f}", ""],
    )  # fmt: skip
    headers = ["function", "CPU ms", "ratio", "ratio less Argon2", *(f"ratio, {SETUPS[name]}" for name in others),
               "wall ms", "import ms", "1st request ms", "peak RSS MiB", "status"]  # fmt: skip
    return table(headers, rows)


def warm_table(results: dict[str, Any]) -> str:
    rows = []
    for name, e in results["warm"]["endpoints"].items():
        own = e["without_sdk_ms"]
        flag = "" if e["hashes_password"] or own <= WARM_GOAL_MS else " ⚠"
        rows.append(
            [
                f"`{name}`",
                f"{own:.2f}{flag}",
                f"{e['sdk_ms']:.2f}",
                f"{e['median_ms']:.2f}",
                f"{e['argon2_ms']:.0f}" if e["hashes_password"] else "",
                e["repeats"],
            ]
        )
    return table(["endpoint", "our code ms", "SDK ms", "total ms", "of which Argon2 ms", "repeats"], rows)


def round_trip_table(results: dict[str, Any]) -> str:
    rows = []
    for name, r in results["round_trips"].items():
        tested = "—" if r["tested"] is None else ("same" if r["tested"] == r["dynamodb"] else ", ".join(r["tested"]))
        rows.append(
            [
                f"`{name}`",
                len(r["dynamodb"]),
                ", ".join(r["dynamodb"]) or "—",
                tested,
                "—" if r["budget"] is None else r["budget"],
                ", ".join(r["other"]) or "—",
            ]
        )
    headers = ["endpoint", "DynamoDB calls", "which", "test_round_trips EXPECTED", "budget", "other AWS calls"]
    return table(headers, rows)


def other_tables(results: dict[str, Any]) -> str:
    h, s, load = results["hashing"], results["warm"]["sign_in"], results["load"]
    hashing = table(
        ["parameters", "hash ms (CPU)", "verify ms (CPU)", "peak RSS rise MiB"],
        [
            [
                f"Argon2id m={h['memory_cost_mib']:.0f} MiB, t={h['time_cost']}, p={h['parallelism']}",
                f"{h['hash_ms']:.1f}",
                f"{h['verify_ms']:.1f}",
                f"{h['peak_rss_rise_mib']:.1f}",
            ]
        ],
    )
    sign_in = table(
        ["sign-in", "median ms (CPU, moto in-process)"],
        [
            ["known email, right password", f"{s['known_email_ms']:.1f}"],
            ["known email, wrong password", f"{s['known_email_wrong_password_ms']:.1f}"],
            ["unknown email", f"{s['unknown_email_ms']:.1f}"],
        ],
    )
    loaded = table(
        ["flows", "clients", "users", "errors", "flows/s", "p50 ms", "p99 ms", "run s", "seeding s"],
        [
            [
                load["flows"],
                load["clients"],
                load["users"],
                load["errors"],
                f"{load['flows_per_s']:.1f}",
                _ms(load["p50_ms"]),
                _ms(load["p99_ms"]),
                f"{load['elapsed_s']:.0f}",
                f"{load['seeding_s']:.0f}",
            ]
        ],
    )
    return f"{hashing}\n\n{sign_in}\n\n{loaded}"


def text(results: dict[str, Any]) -> str:
    m = results["machine"]
    return "\n\n".join(
        [
            f"Run {results['date']} on {m['cores']} x {m['cpu']}, Python {m['python']}, "
            f"load average {m['load_average_at_start']:.1f} at start",
            "Summary\n" + summary_table(results),
            f"Cold start per function (median of {results['coldstart']['runs']} runs; CPU ms, wall ms, splits and "
            "peak RSS as deployed)\n" + cold_table(results),
            "Warm overhead per endpoint (median CPU time per request, AWS answered from memory)\n"
            + warm_table(results),
            "Round trips per endpoint\n" + round_trip_table(results),
            "Password hashing, sign-in timing, load\n" + other_tables(results),
        ]
    )


def chart(results: dict[str, Any], path: Path) -> None:
    """Horizontal bars: each function's cold-start CPU time, the floor and 1.5x the floor as lines."""
    from PIL import Image, ImageDraw, ImageFont

    cold = results["coldstart"]
    floor = cold["floor_cpu_ms"]
    names = list(cold["functions"])
    font = ImageFont.load_default(size=13)
    bold = ImageFont.load_default(size=16)
    left, right, top, row = 240, 150, 60, 20
    width, height = 1100, top + row * len(names) + 50
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    scale_max = max(max(f["cpu_ms"] for f in cold["functions"].values()), floor * COLD_GOAL) * 1.05
    plot = width - left - right

    def x(ms: float) -> float:
        return left + plot * ms / scale_max

    title = "Cold start as deployed: CPU time of a fresh interpreter to the end of its first request"
    draw.text((10, 10), title, "black", bold)
    draw.text(
        (10, 32),
        f"{results['date']} · median of {cold['runs']} runs · Python {cold['python']} · {results['machine']['cpu']}",
        "gray",
        font,
    )
    for i, name in enumerate(names):
        f = cold["functions"][name]
        y = top + i * row
        colour = "#2e7d32" if f["ratio"] <= COLD_STRETCH else "#f9a825" if f["ratio"] <= COLD_GOAL else "#c62828"
        draw.text((left - 8, y + 3), name, "black", font, anchor="ra")
        draw.rectangle([left, y + 3, x(f["cpu_ms"]), y + row - 3], fill=colour)
        draw.text((x(f["cpu_ms"]) + 6, y + 3), f"{f['cpu_ms']:.0f} ms  {f['ratio']:.2f}x", "black", font)
    bottom = top + row * len(names)
    for ms, label, colour in [(floor, "floor", "black"), (floor * COLD_GOAL, "1.5x floor", "#c62828")]:
        for y in range(top - 4, bottom, 8):
            draw.line([x(ms), y, x(ms), y + 4], fill=colour, width=2)
        draw.text((x(ms), bottom + 6), f"{label} {ms:.0f} ms", colour, font, anchor="ma")
    draw.text((10, height - 20), "green <= 1.25x floor · amber <= 1.5x · red > 1.5x", "gray", font)
    image.save(path)


def write_docs(results: dict[str, Any], docs: Path) -> None:
    docs.mkdir(exist_ok=True)
    chart(results, docs / "performance.png")
    lambda_runs = lambda_platform.load()
    (docs / "performance.md").write_text(
        _PERFORMANCE.format(
            tables=text(results),
            python="{}.{}".format(*sys.version_info[:2]),
            lambda_python=lambda_runs.python_version,
            lambda_architecture=lambda_runs.architecture,
            host_architecture=lambda_platform.host_architecture(),
            warm_goal=WARM_GOAL_MS,
        )
    )


_PERFORMANCE = """# Performance

Generated by `make bench` (`python -m bench`; the figures below are from the run named in the first
line). Every number is measured in that one run on the machine it names; rerun it to get yours.
What each code change bought, measured change by change: [performance-cuts.md](performance-cuts.md).

![Cold start per function against the floor](performance.png)

## How to reproduce

```sh
make bench                      # or: .venv/bin/python -m bench
.venv/bin/python -m bench --runs 5 --flows 1000 --clients 16 --users 256   # the knobs, defaults but --runs
```

It takes about 10 minutes on a quiet 2-core machine (the cold starts of three setups, then the load
test: the local stack serves one request at a time), and up to 25 with other work on the machine. It
needs the runtime's Python ({lambda_python}) to build the layer, as `make build` does: `make bench`
finds or installs it (docs/development.md). `--docs-only` rewrites the
docs from the last results. Each part runs in its own interpreter and logs to
`bench/results/<part>.log`; all figures are also in `bench/results/results.json`. This file,
`performance.png` and `cost.md` are rewritten by every run (`--no-docs` leaves them alone).

## What each number means

- **Cold start** (`bench/coldstart.py`, `bench/child.py`): what Lambda runs, measured as Lambda
  runs it. The layer is built by `layers/core/Makefile`, the recipe `sam build` runs, for this
  machine's CPU and the runtime's Python ({lambda_python}, `template.yaml`), bytecode and all; the
  function folders are copied as `sam build` copies them; boto3 comes compiled by that same Python,
  as Lambda's runtime ships it (the floor uses it; the functions find the layer's own pinned and
  trimmed botocore first on the path, as on Lambda). A fresh interpreter with `PYTHONPATH` = the function's folder, the
  layer and boto3 (Lambda's order) and the function's environment from `template.yaml` imports the
  function's module and serves its first request: the function's own `events/<name>.json`, filled
  in by a walk through every endpoint so that the request succeeds against real state (the session
  exists, the challenge waits, the code was sent). `PYTHONDONTWRITEBYTECODE=1` in a tree built for
  the run: like on Lambda's read-only `/opt` and `/var/task`, nothing one cold start compiles helps
  the next (the bench runs as root, which ignores read-only modes, hence the variable). The process
  reports its own CPU time (user + system, `getrusage`) the moment the first request is answered and
  leaves with `os._exit`: interpreter teardown, which Lambda never runs on the request path, is not
  counted. The **floor**, `import boto3; boto3.client('dynamodb')`, runs through the same script with
  the same interpreter, environment and boto3, twice per walk. AWS is moto in server mode on a local
  port (`AWS_ENDPOINT_URL`), with the load test's change to it (below); its work runs in the
  bench's process and is not counted. Three setups,
  walks interleaved, each with its own floor: **as deployed** (the build as shipped); **no bytecode
  (before)**, the same build without its `.pyc` files, which is the layer as it shipped before this
  bench (`--no-compile`, `*.pyc` stripped); **host tree**, the source tree in the development venv
  (Python {python}, its `.pyc` cache), as `make dev` and the tests run it. The figure compared is the
  CPU time, as a ratio to the floor of the same setup (so compare setups by their CPU ms too: the
  host's Python and the runtime's do not import boto3 at the same cost; the floors are in the
  table's first row): the machine is shared, and wall time also
  counts waiting for a core (listed as *wall ms*, to the end of the first request). *import ms* and
  *1st request ms* are wall-clock splits inside the process; *peak RSS* is the process's peak
  resident set size (`VmHWM`) after the first request, the figure memory is chosen from (cost.md).
  Goal: as deployed, every function <= 1.5x its floor and the median <= 1.3x (⚠ marks ratios above
  1.5). *ratio less Argon2*, for the functions that hash a password, leaves out the CPU of the
  request's hashes (the warm table's Argon2 column): a hash is the request's own work, slow on
  purpose (security.md), not start-up cost. Lambda runs Python {lambda_python} on
  {lambda_architecture}; this runs Python {lambda_python} on {host_architecture}, so the ratio is the
  portable figure, not the milliseconds.
- **Warm overhead** (`bench/warm.py`): the walk runs in-process against moto; each endpoint's first
  call runs for real while moto's answers are recorded, then the same event is handled 50 times
  (5 where a password is hashed) with those answers replayed from memory at botocore's
  `before-send` hook. *total* is the median CPU time of a request; *SDK* is the part inside boto3
  calls (request building, signing, response parsing, no network); *our code* is total minus SDK.
  The goal (<= {warm_goal} ms, ⚠ above) applies to *our code* of endpoints that hash no password. Logging is on
  at the template's level (INFO), as deployed.
- **Round trips**: the AWS calls each endpoint's first call made (a fresh container, so a
  Secrets Manager read for the code key appears once), next to the counts
  `tests/integration/test_round_trips.py` asserts (`EXPECTED`; "same" when equal) and the
  ARCHITECTURE.md §3 budgets.
- **Argon2id** (`bench/hashing.py`): CPU time of one hash and one verify at the configured
  parameters, and how much the first hash raised the process's peak RSS.
- **Sign-in timing**: CPU time of whole sign-in requests (moto in-process) for a known email with
  the right and a wrong password and for an unknown email, interleaved: an unknown email pays one
  hash too, so the wrong-password and unknown-email cases should be close (the right password also
  writes a session).
- **Load** (`bench/load.py`): the local stack (`local.server`, started through `bench/stack.py`) on a
  free port. One change to the emulator, none to the stack: moto backs up a whole table with a deep
  copy on every TransactWriteItems, so a growing table slows every transaction down (the run would
  measure moto); `bench/stack.py` backs up only the partitions a transaction touches and restores
  them the same way. Users are seeded through the
  API (sign up, sign in, TOTP authenticator, MFA on), then 16 clients run complete MFA sign-in flows
  (sign in → TOTP challenge → complete → GET /account) over HTTP. *errors* counts any flow with an
  unexpected status; p50/p99 are per whole flow (4 requests). The local stack runs one handler at a
  time (one Lambda container), so this measures a single container, not Lambda's scaling; see
  cost.md for the deployed throughput. Rate limits are not lifted: sign-ups are spread over
  source addresses 127.0.1.x (10 per address, API.md §5), each user runs only a few flows, and
  each flow of a user uses a later TOTP step than the last (a code is accepted once per step).

## The layer ships bytecode, compiled by the runtime's Python

`/opt` is read-only on Lambda, so a layer without `.pyc` files compiles pydantic, Powertools,
authcore (and everything else it imports) from source at every cold start: the *no bytecode
(before)* column, about twice the CPU of the same build with its bytecode. `layers/core/Makefile`
now compiles the installed layer with `compileall --invalidation-mode unchecked-hash`:

- **by the runtime's own Python version.** Bytecode is only read by the minor version that wrote it
  (the magic number changes with every one; a patch release reads it); the build finds that
  interpreter with `local/lambda_platform.py python` (`RUNTIME_PYTHON`, `python3.X` on `PATH`, or
  pyenv's) and stops, saying how to get one, if the machine has none; `make build` first installs
  Debian's package where Debian has it. `tests/contract/test_build.py` checks that every `.py` of
  the built layer has its `.pyc` with the runtime's magic number and the unchecked-hash flag, and
  that the build stops without the interpreter.
- **unchecked-hash**: the `.pyc` holds a hash of its source instead of its mtime, and the import
  system never checks it. A timestamp `.pyc` would be stale if the zip round trip changed the
  sources' mtimes (zip keeps 2-second local times), and then, on a read-only `/opt`, compiled again at
  every cold start without being written; a checked hash would cost reading and hashing every source.
  The layer never changes in place, so nothing is lost. The contract test replaces a module's source
  after the build and still imports its shipped bytecode.
- The functions' own folders ship no bytecode: their `app.py` is a thin handler compiled in well
  under a millisecond.

The layer grows from about 40 to 72 MB unzipped (Lambda allows 250 MB for a function and its layers).

**The runtime: python3.13, not python3.14.** Bytecode compiled by the exact minor version needs that
interpreter on the build machine. The project's machines (Debian 12, pyenv) and CI have Python 3.13
and no 3.14, Debian 13 ships `python3.13` as an ordinary package, and no registry the build may use
offers a 3.14 interpreter (uv's Python downloads come from GitHub). So `template.yaml` deploys
python3.13 on arm64: the build works on any of these machines with no download from outside. What it
costs: python3.14's own speed-ups (a newer interpreter, incremental GC) and a later end of support
(AWS deprecates a runtime when its Python reaches end of life: 3.13 in October 2029, 3.14 in October
2030). Moving to 3.14 later is the two Globals lines, `CoreLayer`'s `CompatibleRuntimes`, `make lock`
and a 3.14 interpreter on the build machines (`pyenv install 3.14` or `RUNTIME_PYTHON=`).

## Where a cold start goes

From the issue's import-time profile (bytecode present, CPU ms): interpreter 10, boto3 + botocore
123, Powertools' root package 8, its `event_handler` 26, pydantic 38, authcore + the resolver with
validation 57, the DynamoDB client 57, the first request 6-14; cyclic GC about 36 of those. The floor
is the interpreter, boto3 and one client; what a function adds on top is Powertools, pydantic,
authcore and the route's validation models. The functions that import neither (`cors_preflight`,
`get_qr`, `route_not_found`) are at or below the floor.

## SnapStart

Not in the template. A restored snapshot would replace the import and init part of a cold start, but
SnapStart runs only on published versions: a version and an alias per function, two CloudFormation
resources each, which the stack cannot spare if it is to hold 120 functions (docs/deploy.md). It was a
parameter, off by default, until then. The code stays snapshot-safe, so a stack that turns it on (a
split stack with room for the versions) needs no code change; what was checked so that restored copies
share nothing they must not:

- **No connections at init.** Every AWS client is created on first use, not at import:
  `store/table.py` `client()`, `delivery/aws.py` `client()`, `security/kms.py` `_client`,
  `security/codes.py` (the Secrets Manager client and the HMAC key it fetches). A snapshot is taken
  after init, before any request, so it holds no open connection and no fetched key.
- **No per-container randomness at init.** Secrets, codes, ids and recovery codes come from
  `secrets` (the OS CSPRNG, read at call time: `security/tokens.py`, `security/codes.py`,
  `security/totp.py`, `ids.py`); nothing seeds or draws from `random` at import. Argon2 salts come
  from argon2-cffi's `os.urandom` per hash.
- **Nothing time-dependent at init.** Settings are read from the environment on first use
  (`config.py` `settings()`, cached); clocks are read per request.
- Powertools' Logger keeps only configuration at init; its `cold_start` field is per container and
  would read `true` once per restore, which is what it means after a restore.

## Results

{tables}
"""
