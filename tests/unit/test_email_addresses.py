"""Email fields (models/fields.py): addresses of the common shape are checked without email_validator, with the
result email_validator gives them; the rest go to it."""

import random
import subprocess
import sys
from pathlib import Path

import email_validator
import pytest
from email_validator import EmailNotValidError, validate_email

from authcore.models import fields

LAYER = Path(__file__).resolve().parents[2] / "layers" / "core"
EDGE_CASES = [
    "ann@example.com",
    "Ann.Example+tag@Example.COM",
    "POSTMASTER@example.com",
    "a@b.co",
    "o'brien@example.ie",
    "x!#$%&'*+/=?^_`{|}~-y@example.org",
    "first.last@sub.domain.example.museum",
    "ann@123.example.com",
    "ann@example.c0m",
    "ann@example.123",
    "ann@example.c",
    "ann@example.x" + "y" * 62,
    "ann@example.x" + "y" * 63,
    "ann@" + "a" * 63 + ".com",
    "ann@" + "a" * 64 + ".com",
    "ann@" + ".".join(["a" * 61] * 4) + ".com",
    "ann@" + ".".join(["a" * 62] * 4) + ".com",
    "ann@xn--bcher-kva.example",
    "ann@ab--cd.example.com",
    "ann@a--b.example.com",
    "ann@-example.com",
    "ann@example-.com",
    "ann@example..com",
    "ann@.example.com",
    "ann@example.com.",
    "ann@localhost",
    "ann@example.localhost",
    "ann@foo.test",
    "ann@foo.onion",
    "ann@foo.local",
    "ann@foo.invalid",
    "ann@in-addr.arpa",
    "ann@test.com",
    "ann@example",
    ".ann@example.com",
    "ann.@example.com",
    "an..n@example.com",
    "@example.com",
    "ann@",
    "ann@@example.com",
    "a@b@example.com",
    '"ann"@example.com',
    "Ann <ann@example.com>",
    "ann @example.com",
    "ann@exam_ple.com",
    "ann@[192.0.2.1]",
    "añn@example.com",
    "ann@exämple.com",
    "ann@ex\u212aample.com",
    "ann@example.\u017fe",
    "ann@\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com",  # fullwidth EXAMPLE
    "x" * 64 + "@example.com",
    "x" * 65 + "@example.com",
]
ALPHABET = "aB9.-_+@'%~" + "z" * 6 + "." * 2


def _with_email_validator_only(value: str) -> str:
    """What the field answered before the common shape was checked without email_validator."""
    if len(value) > 254:
        return "invalid"
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return "invalid"
    if len(checked.local_part.encode()) > fields.MAX_LOCAL_PART_OCTETS:
        return "too long"
    return checked.normalized.lower()


def _answer(value: str) -> str:
    try:
        return fields._email(value)
    except ValueError as error:
        return "too long" if "at most" in str(error) else "invalid"


def _generated(count: int) -> list[str]:
    rng = random.Random(16)
    addresses = []
    for _ in range(count):
        local = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 6)))
        labels = ["".join(rng.choice("ab9-Z") for _ in range(rng.randint(0, 5))) for _ in range(rng.randint(1, 3))]
        tld = rng.choice(["com", "io", "x", "c0m", "test", "local", "Localhost", "onion", "", "9", "xn--p1ai"])
        addresses.append(f"{local}@{'.'.join([*labels, tld])}")
    return addresses


@pytest.mark.parametrize("value", EDGE_CASES)
def test_an_edge_case_is_answered_as_email_validator_answered_it(value):
    assert _answer(value) == _with_email_validator_only(value)


def test_generated_addresses_are_answered_as_email_validator_answered_them():
    addresses = _generated(20000)
    assert sum(fields._plain_address(value) is not None for value in addresses) > 500  # the common shape, often
    for value in addresses:
        assert _answer(value) == _with_email_validator_only(value), value


def test_the_special_use_domains_are_email_validators():
    assert list(fields.SPECIAL_USE_DOMAINS) == email_validator.SPECIAL_USE_DOMAIN_NAMES


def test_the_field_answers_alike_on_either_path():
    assert fields._email("Ann.Example@Example.COM") == "ann.example@example.com"
    assert fields._email("Ann@Exämple.com") == "ann@exämple.com"  # email_validator's path
    for wrong in ("ann@example", "ann@foo.test", "añn@", "x" * 65 + "@example.com"):
        with pytest.raises(ValueError):
            fields._email(wrong)


def test_a_common_address_loads_no_email_validator():
    program = (
        "import sys; from authcore.models import fields; fields._email('ann@example.com');"
        "print('email_validator' in sys.modules)"
    )
    run = subprocess.run([sys.executable, "-c", program], cwd=LAYER, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "False"
