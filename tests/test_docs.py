"""The README is an entrance and the documentation site under docs/ holds the rest.

The README stays short and starts with the two commands; every section of the README as it
was before the site (commit 1c2d27b) and of DEVELOPERS.md has a page; every number that
README held is still in the README or on a page; every page is in mkdocs.yml's nav; the
README's links lead to files and headings that exist. ``make test`` also builds the site
with ``mkdocs build --strict``, which checks the links between pages.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from markdown.extensions.toc import slugify

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README_MAX_LINES = 200
NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")  # as the fixture was extracted
SNIPPET = re.compile(r'^--8<-- "([^"]+)"\s*$', re.M)  # pymdownx.snippets includes, from the root
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")

# (heading before the site, the page that holds that section now, its heading there)
HOMES = [
    ("audiorouter", "index.md", "audiorouter"),
    ("The built-in perception suite", "data.md", "The built-in perception suite"),
    ("Importing public benchmarks", "data.md", "Importing public benchmarks"),
    ("Tools", "tools.md", "Tools"),
    ("The reasoner", "reasoners.md", "The reasoner"),
    ("Real language models", "reasoners.md", "Real language models"),
    ("Training the router", "training.md", "Training the router"),
    ("On a Ray cluster", "cluster.md", "On a Ray cluster"),
    ("The scaling study", "study-protocol.md", "The scaling study"),
    ("Results of the LM study (Qwen2.5-Coder-1.5B reasoner): the headline", "study-results.md",
     "Results of the LM study (Qwen2.5-Coder-1.5B reasoner): the headline"),
    ("The fast check: the reference-reasoner study", "study-results.md",
     "The fast check: the reference-reasoner study"),
    ("Evaluating, batch inference, serving", "inference-serving.md", "Evaluating, batch inference, serving"),
    ("Configuration", "configuration.md", "Configuration"),
    ("Layout", "layout.md", "Layout"),
    # DEVELOPERS.md's sections
    ("Developers", "development.md", "Development"),
    ("Environment", "development.md", "Environment"),
    ("Changing a dependency", "development.md", "Changing a dependency"),
    ("numba", "development.md", "numba"),
    ("Layers", "development.md", "Layers"),
    ("Offline", "development.md", "Offline"),
    ("Running a long study in pieces", "development.md", "Running a long study in pieces"),
    ("Tests", "development.md", "Tests"),
]


def headings(text: str) -> list[str]:
    """Markdown headings outside fenced code blocks, without their #s."""
    found, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"#{1,6} (.+?)\s*#*\s*$", line)):
            found.append(match.group(1))
    return found


def site_text() -> str:
    """The README and every page, with the files the pages include."""
    parts = [(ROOT / "README.md").read_text()]
    for page in sorted(DOCS.rglob("*.md")):
        text = page.read_text()
        parts.append(text)
        parts.extend((ROOT / included).read_text() for included in SNIPPET.findall(text))
    return "\n".join(parts)


def nav_pages(entries) -> list[str]:
    pages = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages.extend(nav_pages(value) if isinstance(value, list) else [value])
    return pages


def test_the_readme_is_short_and_its_first_commands_are_make_demo_and_make_test():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= README_MAX_LINES, "README.md: move detail into a page under docs/"
    first_block = re.search(r"```\w*\n(.*?)```", text, re.S)
    assert first_block, "README.md has no command block"
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert [c for c in commands if c] == ["make demo", "make test"]


@pytest.mark.parametrize(("old", "page", "heading"), HOMES, ids=[old for old, _, _ in HOMES])
def test_every_old_section_has_a_home(old, page, heading):
    path = DOCS / page
    assert path.is_file(), f"{old!r} should live in docs/{page}, which does not exist"
    assert heading in headings(path.read_text()), f"docs/{page} has no heading {heading!r} (was {old!r})"


def test_every_number_of_the_old_readme_is_still_written_somewhere():
    fixture = ROOT / "tests" / "fixtures" / "old_readme_numbers.txt"
    wanted = [line for line in fixture.read_text().splitlines() if line and not line.startswith("#")]
    present = set(NUMBER.findall(site_text()))
    missing = [number for number in wanted if number not in present]
    assert not missing, f"numbers of the old README on no page: {missing}"


def test_every_page_is_in_the_nav_and_every_nav_entry_is_a_page():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["docs_dir"] == "docs"
    in_nav = nav_pages(config["nav"])
    pages = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    assert sorted(set(in_nav)) == pages
    assert len(in_nav) == len(set(in_nav)), "a page is in the nav twice"


def test_the_readmes_links_lead_to_files_and_headings_that_exist():
    for target in LINK.findall((ROOT / "README.md").read_text()):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        assert (ROOT / path).exists(), f"README.md links to {path}, which does not exist"
        if anchor:
            slugs = {slugify(re.sub(r"[`*]", "", h), "-") for h in headings((ROOT / path).read_text())}
            assert anchor in slugs, f"README.md links to {target}: no such heading"
