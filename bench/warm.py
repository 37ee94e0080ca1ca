"""Warm overhead per endpoint: our code's CPU time per request with every AWS call answered from memory.

The walk (bench/harness.py) runs in-process against moto. The first call of each function runs
for real while the answers moto gives (status, headers, body) are recorded; then the same event
is handled again and again with those answers replayed from memory at botocore's `before-send`
hook, where moto itself answers. So the timing includes our code and the SDK's request building,
signing and response parsing, but no emulator and no network. Times are the thread's CPU time, so
other work on a shared machine does not count. The recording also counts the AWS
calls per endpoint (the round trips). Also here: sign-in time for a known vs an unknown email.
"""

from __future__ import annotations

import copy
import json
import statistics
import sys
import time
from typing import Any

from bench.harness import Api, use_template_log_level, walk

REPEATS = 50  # per endpoint; fewer where a password is hashed (tens of ms each)
HASHING_REPEATS = 5


class Clock:
    """Time spent inside one kind of call (botocore API calls, Argon2), summed until reset."""

    def __init__(self) -> None:
        self.ns = 0

    def wrap(self, owner: Any, name: str) -> None:
        real = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time_ns()
            try:
                return real(*args, **kwargs)
            finally:
                self.ns += time.thread_time_ns() - started

        setattr(owner, name, timed)


class Replay:
    """Records moto's answers during a real call; answers from the recording during replays.

    An answer is replayed to the same kind of request (URL and X-Amz-Target), in order. What a warm
    container caches (the code key from Secrets Manager) is asked for on the first call only.
    """

    def __init__(self) -> None:
        from moto.core.models import botocore_stubber

        self.moto = botocore_stubber.process_request
        self.recorded: list[Any] = []
        self.queue: list[Any] | None = None
        self.calls: list[str] = []
        botocore_stubber.process_request = self.answer

    def answer(self, request: Any) -> Any:
        kind = (request.url, request.headers.get("X-Amz-Target"))
        if self.queue is not None:
            for index, (recorded_kind, _) in enumerate(self.queue):
                if recorded_kind == kind:
                    return self.queue.pop(index)[1]
            raise RuntimeError(f"replay: no recorded answer left for {kind}")
        response = self.moto(request)
        self.recorded.append((kind, response))
        return response


def measure() -> dict[str, Any]:
    import argon2
    from botocore.client import BaseClient
    from moto import mock_aws

    from local import aws, template
    from local.gateway import load_handler
    from tests.conftest import TEMPLATE

    use_template_log_level()
    sdk, hashing = Clock(), Clock()
    calls: list[str] = []
    capacity: list[tuple[float, float]] = []
    real_api_call = BaseClient._make_api_call

    def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
        calls.append(f"{client.meta.service_model.signing_name}:{operation}")
        capacity.append(_capacity(operation, params))
        return real_api_call(client, operation, params)

    BaseClient._make_api_call = counted
    sdk.wrap(BaseClient, "_make_api_call")
    hashing.wrap(argon2.PasswordHasher, "hash")
    hashing.wrap(argon2.PasswordHasher, "verify")

    endpoints: dict[str, dict[str, Any]] = {}
    with mock_aws():
        aws.create_resources(TEMPLATE, template.Resolver(TEMPLATE, template.DEV_PARAMETERS))
        replay = Replay()

        def dispatch(function: Any, event: dict[str, Any], context: Any) -> dict[str, Any]:
            handler = load_handler(function)
            if function.name in endpoints:
                return handler(event, context)
            replay.recorded, replay.queue = [], None
            pristine = copy.deepcopy(event)
            calls.clear()
            capacity.clear()
            hashing.ns = 0
            result = handler(event, context)
            round_trips, hashed = list(calls), hashing.ns > 0
            read_units, write_units = sum(r for r, _ in capacity), sum(w for _, w in capacity)
            samples = []
            for _ in range(HASHING_REPEATS if hashed else REPEATS):
                again = copy.deepcopy(pristine)
                replay.queue = list(replay.recorded)
                sdk.ns = hashing.ns = 0
                started = time.thread_time_ns()
                handler(again, context)
                total = time.thread_time_ns() - started
                samples.append((total, sdk.ns, hashing.ns))
            replay.queue = None
            endpoints[function.name] = {
                "status": result["statusCode"],
                "median_ms": statistics.median(s[0] for s in samples) / 1e6,
                "sdk_ms": statistics.median(s[1] for s in samples) / 1e6,
                "without_sdk_ms": statistics.median(s[0] - s[1] for s in samples) / 1e6,
                "argon2_ms": statistics.median(s[2] for s in samples) / 1e6,
                "hashes_password": hashed,
                "repeats": len(samples),
                "aws_calls": round_trips,
                "read_units": read_units,
                "write_units": write_units,
            }
            return result

        walk(Api(dispatch, ip="10.1.0.1"), run=9000)
        sign_in = _sign_in_timing(Api(lambda f, e, c: load_handler(f)(e, c), ip="10.1.0.2"))
    return {"endpoints": dict(sorted(endpoints.items())), "sign_in": sign_in}


def _capacity(operation: str, params: dict[str, Any]) -> tuple[float, float]:
    """DynamoDB on-demand units (reads, writes) of one call, if every item read is ≤ 4 KB and every item
    written ≤ 1 KB: a strongly consistent read 1, an eventually consistent one 0.5, a write 1, and
    twice that for each item of a transaction. Queries are counted as one 4 KB page."""
    read = 1.0 if params.get("ConsistentRead") else 0.5
    match operation:
        case "GetItem" | "Query":
            return read, 0.0
        case "BatchGetItem":
            requests = params["RequestItems"].values()
            return sum(len(r["Keys"]) * (1.0 if r.get("ConsistentRead") else 0.5) for r in requests), 0.0
        case "TransactGetItems":
            return 2.0 * len(params["TransactItems"]), 0.0
        case "PutItem" | "UpdateItem" | "DeleteItem":
            return 0.0, 1.0
        case "TransactWriteItems":
            return 0.0, 2.0 * len(params["TransactItems"])
    return 0.0, 0.0  # not DynamoDB


def _sign_in_timing(api: Api, rounds: int = 8) -> dict[str, float]:
    """CPU time of a whole sign-in (moto in-process included) for a known email (right and wrong password)
    and an unknown one."""
    from tests.integration.conftest import PASSWORD

    api("create_account", {"userId": "unique()", "email": "timing@example.com", "password": PASSWORD})
    cases = {
        "known_email_ms": ("timing@example.com", PASSWORD, 201),
        "known_email_wrong_password_ms": ("timing@example.com", "wrong password 1", 401),
        "unknown_email_ms": ("nobody@example.com", PASSWORD, 401),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):  # interleaved, so load on the machine hits every case alike
        for name, (email, password, status) in cases.items():
            started = time.thread_time()
            answer = api.sign_in(email, password)
            times[name].append((time.thread_time() - started) * 1000)
            if answer.status != status:
                raise RuntimeError(f"sign-in timing {name}: HTTP {answer.status}")
    return {name: statistics.median(values) for name, values in times.items()} | {"rounds": rounds}


if __name__ == "__main__":  # python -m bench.warm OUT.json
    with open(sys.argv[1], "w") as out:
        json.dump(measure(), out, indent=2)
