"""Config: YAML + dotted overrides, validated once, with errors naming valid keys."""

from __future__ import annotations

import pytest

from audiorouter.config import Config, ConfigError, flatten, load_config, to_yaml


def test_defaults_need_no_file():
    config = load_config()
    assert isinstance(config, Config)
    assert config.data.synth.n > 0


def test_yaml_then_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data:\n  dir: somewhere\n  synth:\n    n: 50\n    seed: 9\n")
    config = load_config(path, ["data.synth.n=80", "data.synth.families=[tempo, duration]"])
    assert config.data.dir == "somewhere"
    assert config.data.synth.seed == 9
    assert config.data.synth.n == 80
    assert config.data.synth.families == ["tempo", "duration"]


def test_unknown_key_names_the_valid_ones(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(None, ["data.synth.nn=3"])
    assert "data.synth.nn" in str(err.value)
    assert "n, seed, families" in str(err.value)
    with pytest.raises(ConfigError, match="valid keys at the top level: data"):
        load_config(None, ["bogus.x=1"])


@pytest.mark.parametrize(
    "override, message",
    [
        ("data.synth.n=many", "data.synth.n must be int"),
        ("data.synth.n=true", "data.synth.n must be int"),
        ("data.synth.families=tempo", "data.synth.families must be a list"),
        ("data.synth.n=0", "must be >= 1"),
        ("data.synth.test_fraction=0.95", "validation_fraction \\+ test_fraction"),
        ("data.synth=3", "data.synth must be a mapping"),
        ("nokey", "must look like section.key=value"),
        ("serve.port=70000", "serve.port must be in 1..65535"),
        ("serve.max_upload_mb=0", "serve.max_upload_mb must be > 0"),
        ("serve.max_bodies_mb=8", "serve.max_bodies_mb \\(8\\) must be >= serve.max_upload_mb \\(16\\)"),
        ("reasoner.memo_store=redis", "reasoner.memo_store must be 'sqlite' or 'service'"),
        ("reasoner.memo_store=service", "reasoner.memo_path must be an absolute path on the head node"),
        ("tools.cache_store=service", "tools.cache_dir must be an absolute path on the head node"),
    ],
)
def test_mistyped_values_are_errors(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, [override])


def test_int_is_accepted_for_float():
    assert load_config(None, ["data.imports.max_duration_s=30"]).data.imports.max_duration_s == 30.0


def test_flatten_and_print():
    config = load_config()
    flat = flatten(config)
    assert flat["data.synth.n"] == config.data.synth.n
    assert all("." in key for key in flat)
    assert "synth:" in to_yaml(config)


def test_shipped_configs_load():
    from pathlib import Path

    for path in sorted(Path(__file__).resolve().parents[2].joinpath("configs").glob("*.yaml")):
        load_config(path)
