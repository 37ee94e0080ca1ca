"""Trim the layer's botocore data to the AWS services authcore calls (a build step of layers/core/Makefile).

Creating any client makes botocore parse its data/endpoints.json, 1.25 MB describing every service in
every partition: about 30 ms CPU of every cold start (docs/performance-cuts.md). The layer vendors a
pinned botocore (layers/core/requirements.txt), first on Lambda's sys.path, so the trimmed data always
belongs to the code that reads it; a runtime update cannot pair them differently.

`python3 local/botocore_data.py SITE SERVICE...` keeps, under SITE/botocore/data, the named services'
folders and the top-level files, removes every other service folder, and rewrites endpoints.json (compact)
with only the kept services' entries in each partition, found by their endpointPrefix (sesv2 -> email).
A client of a removed service fails loudly (botocore's UnknownServiceError). Standard library only.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
from pathlib import Path


def _service_model(version: Path) -> dict | None:
    for name, opener in (("service-2.json", open), ("service-2.json.gz", gzip.open)):
        if (version / name).is_file():
            with opener(version / name, "rt", encoding="utf-8") as model:
                return json.load(model)
    return None


def endpoint_prefixes(service: Path) -> set[str]:
    """The endpointPrefix of every API version of the service that has a model."""
    models = [_service_model(version) for version in service.iterdir() if version.is_dir()]
    prefixes = {model["metadata"]["endpointPrefix"] for model in models if model}
    if not prefixes:
        raise SystemExit(f"{service}: no service-2.json, no endpointPrefix")
    return prefixes


def trim(site: Path, services: set[str]) -> None:
    data = site / "botocore" / "data"
    present = {path.name for path in data.iterdir() if path.is_dir()}
    if services - present:
        raise SystemExit(f"botocore has no data for {sorted(services - present)}")
    prefixes = set().union(*(endpoint_prefixes(data / service) for service in services))
    for name in present - services:
        shutil.rmtree(data / name)
    endpoints_path = data / "endpoints.json"
    endpoints = json.loads(endpoints_path.read_text(encoding="utf-8"))
    for partition in endpoints["partitions"]:
        partition["services"] = {name: entry for name, entry in partition["services"].items() if name in prefixes}
    endpoints_path.write_text(json.dumps(endpoints, separators=(",", ":")), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Keep only the given services in an installed botocore's data.")
    parser.add_argument("site", type=Path, help="the directory botocore is installed in")
    parser.add_argument("services", nargs="+", help="botocore service names (dynamodb, sesv2, ...)")
    args = parser.parse_args(argv)
    trim(args.site, set(args.services))


if __name__ == "__main__":
    main()
