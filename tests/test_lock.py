"""The lock files are what pyproject.toml asks for, and what this environment holds.

``requirements.lock`` is ``uv pip compile pyproject.toml --extra test`` (every package,
transitive ones too, pinned with hashes); ``requirements-nodeps.lock`` pins the
packages installed without their dependencies (``requirements-nodeps.in``). docs/development.md
says how to regenerate them; these checks fail when someone edits one side only.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s\\;]+)")


def pins(lock: Path) -> dict[str, str]:
    found = {}
    for line in lock.read_text().splitlines():
        match = PIN.match(line)
        if match:
            found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def direct_pins(lock: Path) -> set[str]:
    """Packages the lock says come straight from pyproject.toml."""
    names, current = set(), None
    for line in lock.read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match.group(1))
        elif current and "audiorouter (pyproject.toml)" in line:
            names.add(current)
    return names


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]


def test_every_declared_requirement_is_pinned_to_a_version_it_allows():
    locked = pins(ROOT / "requirements.lock")
    for req in declared():
        name = canonicalize_name(req.name)
        assert name in locked, f"{req} is in pyproject.toml but not in requirements.lock: recompile the lock"
        assert req.specifier.contains(locked[name], prereleases=True), \
            f"requirements.lock pins {name}=={locked[name]}, which pyproject.toml's {req} does not allow"


def test_the_lock_has_no_direct_requirement_that_pyproject_dropped():
    wanted = {canonicalize_name(r.name) for r in declared()}
    stale = direct_pins(ROOT / "requirements.lock") - wanted
    assert not stale, f"requirements.lock still lists {sorted(stale)} as from pyproject.toml: recompile the lock"


def test_every_locked_package_carries_hashes():
    for lock in ("requirements.lock", "requirements-nodeps.lock"):
        blocks = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / lock).read_text())
        for block in blocks:
            if PIN.match(block):
                assert "--hash=sha256:" in block, f"{lock}: {block.splitlines()[0]} has no hash"


def test_the_no_deps_lock_matches_its_input():
    wanted = {}
    for line in (ROOT / "requirements-nodeps.in").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            wanted[canonicalize_name(req.name)] = req
    locked = pins(ROOT / "requirements-nodeps.lock")
    assert set(locked) == set(wanted), "requirements-nodeps.lock and .in list different packages"
    for name, req in wanted.items():
        assert req.specifier.contains(locked[name]), f"{name}=={locked[name]} is not {req}"


def test_this_environment_holds_exactly_the_locked_versions():
    for lock in ("requirements.lock", "requirements-nodeps.lock"):
        for name, pinned in pins(ROOT / lock).items():
            try:
                installed = version(name)
            except PackageNotFoundError:
                raise AssertionError(f"{name}=={pinned} is locked but not installed: run make setup") from None
            assert installed == pinned, f"{name}: {installed} installed, {pinned} locked: run make setup"
