"""JSON within the input limits of API.md §7, for everything the API parses: request bodies, session
credentials, X-Fallback-Cookies, stored prefs.

Python's own parser answers some inputs with errors that are not `JSONDecodeError` (nesting past the
recursion limit: `RecursionError`; an integer of 4,300+ digits: a bare `ValueError`) or accepts values
that cannot be answered later (a lone surrogate cannot be encoded as UTF-8, so a response or a
DynamoDB write holding one fails). `loads` refuses all of these up front, with `OutOfLimitsError`.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 32
MAX_DIGITS = 20

# A bracket or the start of a string; the rest of a string after its opening quote. Possessive, so a
# string that never ends costs one pass, not a backtracking search.
_TOKEN = re.compile(r'[\[\]{}"]')
_STRING_REST = re.compile(r'(?:[^"\\]++|\\.)*+"', re.DOTALL)
_JUNK = re.compile("[\x00\ud800-\udfff]")


class OutOfLimitsError(ValueError):
    """Well-formed enough to read, but beyond what the API accepts."""


def bad_text(value: str) -> bool:
    """Holds NUL or a lone surrogate (a paired one is already one character in a Python str)."""
    return _JUNK.search(value) is not None


def loads(text: str | bytes) -> Any:
    """`json.loads` within the limits. Raises `json.JSONDecodeError` for what is not JSON and
    `OutOfLimitsError` for nesting deeper than MAX_DEPTH, numbers of more than MAX_DIGITS digits (or not
    finite, NaN and Infinity included), and strings or keys holding NUL or a lone surrogate."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")  # UnicodeDecodeError is a ValueError too
    _check_depth(text)
    value = json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    _check_text(value)
    return value


def dumps(value: Any) -> str:
    """Compact JSON, all ASCII: the form prefs are stored and measured in."""
    return json.dumps(value, separators=(",", ":"))


def _check_depth(text: str) -> None:
    """Counts brackets outside strings in one pass over the text (before parsing, which recurses)."""
    depth, position = 0, 0
    while token := _TOKEN.search(text, position):
        position = token.end()
        if token.group() == '"':
            rest = _STRING_REST.match(text, position)
            if rest is None:
                return  # a string that never ends: no JSON, and the parser reads nothing after it
            position = rest.end()
        elif token.group() in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise OutOfLimitsError(f"JSON must not be nested deeper than {MAX_DEPTH} levels")
        else:
            depth -= 1


def _digits(literal: str) -> None:
    if sum(char.isdigit() for char in literal) > MAX_DIGITS:
        raise OutOfLimitsError(f"numbers must have at most {MAX_DIGITS} digits")


def _integer(literal: str) -> int:
    _digits(literal)
    return int(literal)


def _float(literal: str) -> float:
    _digits(literal)
    number = float(literal)
    if not math.isfinite(number):
        raise OutOfLimitsError("numbers must be finite")
    return number


def _constant(literal: str) -> Any:
    raise OutOfLimitsError(f"{literal} is not JSON")


def _check_text(value: Any) -> None:
    """No NUL or lone surrogate in any string or key (the recursion is bounded: the depth is checked)."""
    if isinstance(value, str):
        if bad_text(value):
            raise OutOfLimitsError("strings must not hold NUL or lone surrogates")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)
