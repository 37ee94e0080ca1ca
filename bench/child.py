"""One cold start: a fresh interpreter imports a function and serves its first request.

Run by bench/coldstart.py as a script: `python bench/child.py REQUEST.json RESULT.json`, with
PYTHONPATH = the function's folder + the layer + the runtime's boto3, in Lambda's order (the layer's own
botocore comes first, as on Lambda); or
`python bench/child.py --floor RESULT.json`: the floor, `import boto3; boto3.client('dynamodb')`.
Nothing but the standard library is imported before the measured work.

Both report their own CPU time (user + system, every thread, since exec) the moment the work is
done, then leave with os._exit: interpreter teardown, which Lambda never runs on the request path,
is not counted, and floor and function are measured the same way.
"""

import importlib
import json
import os
import resource
import sys
import time

FLOOR = "import boto3; boto3.client('dynamodb')"


class Context:
    """The attributes and method of the Lambda Python runtime's context object."""

    def __init__(self, fields: dict) -> None:
        self._deadline = time.monotonic() + fields.pop("timeout_s")
        self.__dict__.update(fields)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def peak_rss_kib() -> int:
    """This process's peak resident set size since exec (VmHWM). Unlike ru_maxrss, it does not carry
    over the parent's size from before the exec."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def _serve(request_path: str) -> dict:
    with open(request_path) as file:
        request = json.load(file)
    started = time.perf_counter()
    handler = getattr(importlib.import_module(request["module"]), request["handler"])
    imported = time.perf_counter()
    result = handler(request["event"], Context(request["context"]))
    served = time.perf_counter()
    return {"result": result, "import_ms": (imported - started) * 1000, "first_request_ms": (served - imported) * 1000}


def main() -> None:
    if sys.argv[1] == "--floor":
        exec(FLOOR)  # noqa: S102 - the fixed floor statement above
        figures, result_path = {}, sys.argv[2]
    else:
        figures, result_path = _serve(sys.argv[1]), sys.argv[2]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    done = time.perf_counter()  # CLOCK_MONOTONIC, the clock of the parent's perf_counter
    figures.update(cpu_ms=(usage.ru_utime + usage.ru_stime) * 1000, done=done, peak_rss_kib=peak_rss_kib())
    with open(result_path, "w") as file:
        json.dump(figures, file)
    os._exit(0)


if __name__ == "__main__":
    main()
