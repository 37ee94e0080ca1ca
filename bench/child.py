"""One cold start: a fresh interpreter imports a function and serves its first request.

Run by bench/coldstart.py as a script: `python bench/child.py REQUEST.json RESULT.json`,
with PYTHONPATH = the layer + the function's folder, as Lambda sets it. Nothing but the standard
library is imported before the function's own import.
"""

import importlib
import json
import sys
import time


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


def main() -> None:
    request_path, result_path = sys.argv[1:3]
    with open(request_path) as file:
        request = json.load(file)
    started = time.perf_counter()
    handler = getattr(importlib.import_module(request["module"]), request["handler"])
    imported = time.perf_counter()
    result = handler(request["event"], Context(request["context"]))
    served = time.perf_counter()
    with open(result_path, "w") as file:
        json.dump(
            {
                "result": result,
                "import_ms": (imported - started) * 1000,
                "first_request_ms": (served - imported) * 1000,
                "peak_rss_kib": peak_rss_kib(),
            },
            file,
        )


if __name__ == "__main__":
    main()
