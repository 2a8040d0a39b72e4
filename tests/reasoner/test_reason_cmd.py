"""``audiorouter reason eval`` on a tiny suite with a tiny cascade model."""

import json

import pytest

from audiorouter.cli.main import main
from audiorouter.config import SynthConfig
from audiorouter.data.synth import synthesize_dataset


def test_reason_eval_prints_accuracy_per_family(tmp_path, tiny_checkpoints, capsys):
    data = tmp_path / "suite"
    synthesize_dataset(SynthConfig(n=12, seed=3, families=["tempo", "duration"], workers=1), data, progress=False)
    overrides = ["reasoner.backend=cascade", f"reasoner.model={tiny_checkpoints['causal_lm']}",
                 "reasoner.memo_path=", "reasoner.dtype=float32", "reasoner.device=cpu", "run.use_actors=false",
                 f"tools.cache_dir={tmp_path / 'tool_cache'}", "tools.enabled=[tempo]"]
    argv = [arg for o in overrides for arg in ("--set", o)]
    assert main([*argv, "reason", "eval", str(data), "--split", "test", "--conditions", "none,matching"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["reasoner"].startswith("cascade reasoner (") and report["tools"] == ["tempo"]
    assert set(report["accuracy"]) == {"tempo", "duration", "ALL"}
    assert report["accuracy"]["ALL"]["n"] == 2 and 0.0 <= report["accuracy"]["ALL"]["matching"] <= 1.0
    assert list((tmp_path / "tool_cache").rglob("*")), "the tempo item's evidence went through the tool cache"


def test_reason_eval_without_items_says_how_to_make_them(tmp_path):
    with pytest.raises(SystemExit, match=r"no items in split 'test' under .*missing: generate the built-in suite"):
        main(["reason", "eval", str(tmp_path / "missing"), "--split", "test"])
