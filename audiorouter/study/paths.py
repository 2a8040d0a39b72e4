"""The study's file locations made absolute before any trial starts.

Ray Tune runs each trial with its working directory set to the trial's own folder, so
a relative path in the config ("runs/study", "data/study", "runs/reasoner_memo.sqlite")
would name a different, missing file inside a trial. The driver resolves every path
the trials read against its own working directory once.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from audiorouter.config import Config

# (section, field) of every path a trial may open; "" means "disabled" and stays ""
PATH_FIELDS = (("data", "dir"), ("tools", "cache_dir"), ("reasoner", "memo_path"), ("router", "feature_cache_dir"),
               ("tracking", "artifact_dir"), ("run", "out_dir"), ("study", "data_dir"))


def absolute(path: str, base: Path) -> str:
    return path if not path or Path(path).is_absolute() else str(base / path)


def with_absolute_paths(config: Config, base: str | Path | None = None) -> Config:
    """A copy of ``config`` whose file paths are absolute (relative ones taken from ``base``,
    the working directory by default); a tracking URI that is a plain path too, and a
    reasoner model given as an existing relative path."""
    root = Path(base or Path.cwd()).resolve()
    sections = {}
    for section, name in PATH_FIELDS:
        part = sections.get(section, getattr(config, section))
        sections[section] = dataclasses.replace(part, **{name: absolute(getattr(part, name), root)})
    tracking = sections["tracking"]
    if "://" not in tracking.tracking_uri:
        sections["tracking"] = dataclasses.replace(tracking, tracking_uri=absolute(tracking.tracking_uri, root))
    reasoner = sections["reasoner"]
    if reasoner.model and (root / reasoner.model).exists():
        sections["reasoner"] = dataclasses.replace(reasoner, model=absolute(reasoner.model, root))
    return dataclasses.replace(config, **sections)
