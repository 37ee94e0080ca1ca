"""The Lambda platform every function runs on, read from template.yaml: its one source.

`Globals.Function.Runtime` and `Globals.Function.Architectures` decide the Python version and the CPU
the layer's wheels are fetched and locked for (layers/core/Makefile), the layer's compatibility
(checked by tests/contract/test_build.py), and what the bench prices and reports.

Standard library only: `sam build` runs layers/core/Makefile, which runs this file with whatever
`python3` is first on PATH; `python3 local/lambda_platform.py {pip,uv} [--template T] [--architecture A]`
prints the arguments of `pip install` or `uv pip compile`, and `… python` the path of this machine's
interpreter of the runtime's Python version, which compiles the layer's bytecode (or says loudly that
there is none and how to get one). SAM tells a makefile build nothing about
the architecture (aws/aws-sam-cli#3349), hence this reader.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess  # nosec B404 - probes the interpreters found on this machine
import sys
from dataclasses import dataclass
from pathlib import Path

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "template.yaml"
MACHINES = {"arm64": "aarch64", "x86_64": "x86_64"}  # Lambda's architecture name -> the wheel tags' name
# Lambda's python3.12 and later runtimes run on Amazon Linux 2023: glibc 2.34.
GLIBC_MINOR = 34
OLDEST_MANYLINUX_MINOR = 17  # manylinux2014
# layers/core's lock: the same pins resolve for both architectures (`make lock` checks), and uv lists
# the hash of every wheel of each pinned version, so one lock serves arm64 and x86_64.
LOCK = "requirements.lock"
# What Lambda's Python runtime provides besides the standard library (boto3 and what it needs): the
# bench's floor. The layer vendors its own copies (pinned, botocore's data trimmed), which come first.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")


@dataclass(frozen=True)
class LambdaPlatform:
    runtime: str  # python3.14
    architecture: str  # arm64 or x86_64

    def __post_init__(self) -> None:
        if self.architecture not in MACHINES:
            raise ValueError(f"unknown Lambda architecture {self.architecture!r}")
        if not re.fullmatch(r"python3\.(\d+)", self.runtime) or int(self.runtime.split(".")[1]) < 12:
            raise ValueError(f"{self.runtime!r}: the layer build supports python3.12 and later (Amazon Linux 2023)")

    @property
    def python_version(self) -> str:
        return self.runtime.removeprefix("python")

    @property
    def machine(self) -> str:
        return MACHINES[self.architecture]

    @property
    def pip_platforms(self) -> list[str]:
        """Every manylinux tag the runtime's glibc accepts, newest first (pip does not add older ones)."""
        minors = range(GLIBC_MINOR, OLDEST_MANYLINUX_MINOR - 1, -1)
        return [f"manylinux_2_{minor}_{self.machine}" for minor in minors] + [f"manylinux2014_{self.machine}"]

    def pip_install_args(self) -> list[str]:
        """What `pip install --target` needs to install the lock for Lambda, from any machine."""
        platforms = [arg for tag in self.pip_platforms for arg in ("--platform", tag)]
        return ["--python-version", self.python_version, "--implementation", "cp", *platforms, "-r", LOCK]

    def uv_compile_args(self) -> list[str]:
        """What `uv pip compile` needs to resolve the lock for Lambda."""
        platform = f"{self.machine}-manylinux_2_{GLIBC_MINOR}"
        return ["--python-version", self.python_version, "--python-platform", platform]


def host_architecture() -> str:
    """This machine's CPU, by Lambda's name."""
    names = {machine: name for name, machine in MACHINES.items()}
    if os.uname().machine not in names:
        raise ValueError(f"no Lambda architecture runs {os.uname().machine}")
    return names[os.uname().machine]


class NoInterpreterError(RuntimeError):
    pass


def interpreter(python_version: str) -> str:
    """This machine's CPython `python_version` (3.13): $RUNTIME_PYTHON, else pythonX.Y on PATH, else pyenv's.

    The layer's bytecode must come from the runtime's own minor version (the .pyc magic number
    changes with every one); any patch release of it will do.
    """
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    if os.environ.get("RUNTIME_PYTHON"):
        candidates = [os.environ["RUNTIME_PYTHON"]]
    else:
        installed = sorted(pyenv.glob(f"{python_version}.*/bin/python{python_version}"), reverse=True)
        candidates = [shutil.which(f"python{python_version}"), *map(str, installed)]
    for candidate in filter(None, candidates):
        probe = subprocess.run(  # a Python interpreter found above, asked its version  # nosec B603
            [candidate, "-c", "import sys; print(sys.implementation.name, '%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.split() == ["cpython", python_version]:
            return candidate
    tried = ", ".join(filter(None, candidates)) or f"python{python_version} not on PATH"
    raise NoInterpreterError(
        f"""
*** No Python {python_version} on this machine ({tried}).
*** The layer ships bytecode compiled by the Lambda runtime's own Python (template.yaml: python{python_version}),
*** so that no cold start compiles pydantic, Powertools and authcore from source. Install it:
***   Debian 13 / Ubuntu:  apt-get install python{python_version}   (`make build` tries this)
***   any machine:         pyenv install {python_version}
*** or point RUNTIME_PYTHON at one: make build RUNTIME_PYTHON=/path/to/python{python_version}
"""
    )


def read(template_text: str) -> LambdaPlatform:
    """Runtime and the single architecture of the template's `Globals: Function:` block.

    A line reader, not YAML (this runs without PyYAML); tests/contract/test_build.py checks it against
    the parsed template.
    """
    section = key = None
    values: dict[str, str] = {}
    for line in template_text.splitlines():
        text = line.split(" #")[0].rstrip()
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        indent = len(text) - len(text.lstrip(" "))
        if indent == 0:
            section = text.split(":")[0]
        elif indent == 2:
            key = text.strip().split(":")[0]
        elif indent == 4 and (section, key) == ("Globals", "Function"):
            name, _, value = text.strip().partition(":")
            values[name] = value.strip()
    architecture = re.fullmatch(r"\[\s*([\w-]+)\s*\]", values.get("Architectures", ""))
    if "Runtime" not in values or not architecture:
        raise ValueError("Globals: Function: needs `Runtime: pythonX.Y` and `Architectures: [arm64|x86_64]`")
    return LambdaPlatform(values["Runtime"], architecture.group(1))


def with_architecture(template_text: str, architecture: str) -> str:
    """The template with Globals' architecture set to `architecture`, as a developer would edit it
    (what the layer build reads; the bench and the build tests build for this machine's CPU)."""
    line = re.compile(r"(?m)^    Architectures: \[[\w-]+\]")
    switched, count = line.subn(f"    Architectures: [{architecture}]", template_text)
    if count != 1:
        raise ValueError("Globals: Function: has no one `Architectures: [...]` line")
    return switched


def load(path: Path = TEMPLATE_PATH) -> LambdaPlatform:
    return read(path.read_text())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print the layer build's arguments for the template's platform.")
    parser.add_argument(
        "tool",
        choices=["pip", "uv", "python"],
        help="pip install (the build), uv pip compile (the lock), or the runtime's Python on this machine",
    )
    parser.add_argument("--template", type=Path, default=TEMPLATE_PATH)
    parser.add_argument("--architecture", choices=sorted(MACHINES), help="another architecture, same runtime")
    args = parser.parse_args(argv)
    platform = load(args.template)
    if args.architecture:
        platform = LambdaPlatform(platform.runtime, args.architecture)
    if args.tool == "python":
        try:
            print(interpreter(platform.python_version))
        except NoInterpreterError as missing:
            sys.exit(str(missing))
        return
    print(" ".join(platform.pip_install_args() if args.tool == "pip" else platform.uv_compile_args()))


if __name__ == "__main__":
    main()
