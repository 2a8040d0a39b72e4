"""``audiorouter train`` refuses damaged state files at once: one message, exit 2, no
dataset generated, no Ray started (the bug: a truncated memo kept training retrying
"sampled nothing" for 18 minutes)."""

from __future__ import annotations

import json

import ray
from memo_helpers import filled_memo, truncate_to_half

from audiorouter.cli.main import main


def settings(root) -> list[str]:
    return ["--set", f"data.dir={root}/data", "--set", f"reasoner.memo_path={root}/memo.sqlite",
            "--set", f"tools.cache_dir={root}/cache", "--set", f"tracking.tracking_uri={root}/mlflow.db",
            "--set", f"run.out_dir={root}/runs", "--set", "run.name=damaged"]


def test_a_memo_truncated_to_half_ends_train_with_the_file_and_the_remedy(tmp_path, capsys):
    truncate_to_half(filled_memo(tmp_path / "memo.sqlite"))
    assert main([*settings(tmp_path), "train"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: the outcome memo (reasoner.memo_path) {str(tmp_path / 'memo.sqlite')!r} "
                          "is damaged: it is truncated")
    assert "move it aside (or delete it) and it is recomputed, or point --set reasoner.memo_path=" in err
    assert not (tmp_path / "data").exists() and not ray.is_initialized()


def test_resume_with_a_torn_state_file_or_a_missing_checkpoint(tmp_path, capsys):
    run_dir = tmp_path / "runs" / "damaged"
    run_dir.mkdir(parents=True)
    (run_dir / "state.json").write_text('{"iteration": 2, "checkpoint": "/x')
    assert main([*settings(tmp_path), "train", "--resume"]) == 2
    assert "the run state" in capsys.readouterr().err
    (run_dir / "state.json").write_text(json.dumps({"iteration": 2, "checkpoint": str(run_dir / "checkpoints/iter-2")}))
    assert main([*settings(tmp_path), "train", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "checkpoint" in err and "it lacks algorithm, policy, trainer.json" in err
    assert not (tmp_path / "data").exists()
