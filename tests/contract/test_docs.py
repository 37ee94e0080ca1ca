"""The README stays a screen-sized entry point, and the docs stay true to the repository: every relative link
(and its #anchor) resolves, every `make` target named exists, and the configuration table is the template's."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from local.template import load

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 250

FENCE = re.compile(r"^\s*(```|~~~)")
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_MAKE = re.compile(r"`make ([a-z][a-z0-9-]*)")
BLOCK_MAKE = re.compile(r"^\s*make ([a-z][a-z0-9-]*)")
MAKE_RULE = re.compile(r"^([a-z][a-z0-9 -]*):(?!=)", re.MULTILINE)


def prose_and_code(path: Path) -> tuple[list[str], list[str]]:
    """The lines outside fenced code blocks, and the lines inside them."""
    prose, code, fenced = [], [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif fenced:
            code.append(line)
        else:
            prose.append(line)
    return prose, code


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading anchors on its text
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    seen: dict[str, int] = {}
    found = set()
    for line in prose_and_code(path)[0]:
        if match := HEADING.match(line):
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return frozenset(found)


def relative_links(path: Path) -> list[str]:
    return [
        target
        for line in prose_and_code(path)[0]
        for target in LINK.findall(line)
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target)  # http:, https:, mailto:
    ]


def test_the_readme_fits_on_a_screen():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) < README_MAX_LINES, f"README.md has {len(lines)} lines; move detail into docs/"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_resolves(page: Path):
    broken = []
    for target in relative_links(page):
        file_part, _, anchor = target.partition("#")
        destination = (page.parent / file_part).resolve() if file_part else page
        if not destination.exists():
            broken.append(f"{target}: no file {destination.relative_to(ROOT)}")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no heading with the anchor #{anchor} in {destination.name}")
    assert not broken, f"{page.name}: " + "; ".join(broken)


def test_the_links_are_checked_at_all():
    """The link pattern sees the README's links (a regex gone wrong would pass every page)."""
    assert {"docs/deploy.md#after-the-deploy-make-smoke", "docs/demo-qr.png"} <= set(relative_links(README))
    assert "after-the-deploy-make-smoke" in anchors(ROOT / "docs" / "deploy.md")


def test_every_make_target_named_in_the_docs_exists():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = {name for rule in MAKE_RULE.findall(makefile) for name in rule.split()}
    missing = set()
    for page in PAGES:
        prose, code = prose_and_code(page)
        named = {t for line in prose + code for t in INLINE_MAKE.findall(line)}
        named |= {t for line in code for t in BLOCK_MAKE.findall(line)}
        missing |= {f"{page.name}: make {name}" for name in named - targets}
    assert not missing, sorted(missing)
    assert {"dev", "test", "smoke", "deploy"} <= targets


def test_the_configuration_table_is_the_templates_parameters():
    """docs/configuration.md lists every template parameter (and no other) with the template's default."""
    parameters = load()["Parameters"]
    documented: dict[str, str] = {}
    for line in (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        # a parameter row (`ProjectId`, `OAuthGoogleClientId`), not an environment variable (`TABLE_NAME`)
        if len(cells) == 3 and re.match(r"`[A-Z][A-Z]?[a-z]", cells[0]):
            names = re.findall(r"`([A-Za-z0-9]+)`", cells[0])
            defaults = re.findall(r"`([^`]*)`", cells[1])
            assert len(names) == len(defaults), line
            documented.update(zip(names, defaults, strict=True))
    assert set(documented) == set(parameters)
    for name, spec in parameters.items():
        default = str(spec.get("Default", ""))
        assert documented[name] == (default or '""'), f"{name}: documented {documented[name]}, template {default!r}"


def test_the_environment_table_is_the_templates_function_environment():
    """docs/configuration.md's environment table names exactly the variables template.yaml sets on every function."""
    variables = load()["Globals"]["Function"]["Environment"]["Variables"]
    documented = set()
    for line in (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8").splitlines():
        if re.match(r"\|\s*`[A-Z][A-Z0-9_]+`", line):
            documented |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    assert documented == set(variables)
