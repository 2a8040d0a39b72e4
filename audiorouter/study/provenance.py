"""What a study's numbers depend on: config, seeds, items, code and package versions."""

from __future__ import annotations

import subprocess
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

from audiorouter.config import Config
from audiorouter.study.dataset import StudyData

PACKAGES = ("audiorouter", "ray", "torch", "torchaudio", "transformers", "numpy", "scikit-learn", "mlflow",
            "onnxruntime", "sentence-transformers", "librosa")


def git_commit(folder: Path | None = None) -> str:
    """The checkout's commit, with "-dirty" when files differ from it; "unknown" outside git."""
    folder = folder or Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=folder,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def provenance(config: Config, data: StudyData) -> dict:
    return {"config": asdict(config), "seeds": list(range(config.study.seeds)),
            "dataset": {"dir": str(data.data_dir), "fingerprint": data.fingerprint, "families": data.families,
                        "training_items": len(data.orders[0]), "validation_items": len(data.validation_ids),
                        "test_items": len(data.test_ids), "router_pool": data.router_pool},
            "git_commit": git_commit(), "packages": package_versions()}
