"""Argon2id at the configured parameters (authcore/security/passwords.py), in a fresh interpreter.

Time is the thread's CPU time per hash and per verify; memory is the rise of the process's peak RSS
across the first hash (Argon2id allocates its whole memory cost at once).
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from bench.child import peak_rss_kib

ROUNDS = 7


def _peak_rss_mib() -> float:
    return peak_rss_kib() / 1024


def measure() -> dict[str, float]:
    import argon2  # noqa: F401 - imported before the measurement, which is of the hash alone

    from authcore.security import passwords

    before = _peak_rss_mib()
    stored = passwords.hash_password("correct horse battery")
    rise = _peak_rss_mib() - before
    timings: dict[str, list[float]] = {"hash": [], "verify": []}
    for _ in range(ROUNDS):
        started = time.thread_time()
        passwords.hash_password("correct horse battery")
        timings["hash"].append((time.thread_time() - started) * 1000)
        started = time.thread_time()
        passwords.verify_password(stored, "correct horse battery")
        timings["verify"].append((time.thread_time() - started) * 1000)
    return {
        "memory_cost_mib": passwords.MEMORY_KIB / 1024,
        "time_cost": passwords.TIME_COST,
        "parallelism": passwords.PARALLELISM,
        "peak_rss_rise_mib": rise,
        "hash_ms": statistics.median(timings["hash"]),
        "verify_ms": statistics.median(timings["verify"]),
    }


if __name__ == "__main__":  # python -m bench.hashing OUT.json
    with open(sys.argv[1], "w") as out:
        json.dump(measure(), out, indent=2)
