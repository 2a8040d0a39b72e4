r"""Predictions written back into the original benchmark records, for the benchmarks'
own scoring scripts.

What those scripts do (read, not copied: repository Sakshi113/MMAU, file
``evaluation.py`` at commit 110127f, 2026-02-09; repository ddlBoJack/MMAR, file
``code/evaluation.py`` at commit 3bce090, 2026-02-26):

* MMAU's reads ``--input`` with ``json.load`` (a JSON list) and the prediction under
  ``model_output``, although its README says ``model_prediction``: both keys are written.
  It tallies by the record's ``task`` (sound/music/speech), ``difficulty``
  (easy/medium/hard) and ``sub-category`` (records with a null one are left out of that
  table only).
* MMAR's reads a path ending in ``json`` with ``json.load`` and one ending in ``jsonl``
  as JSON lines (``json.loads`` of every line, so a blank line would break it), and the
  prediction under ``answer_prediction``; it tallies by ``modality``, ``category`` (the
  four layers) and ``sub-category``. Nothing else is needed from us
  (``code/evaluation_rubrics.py`` would also want ``thinking_prediction``, a chain of
  thought, which a reasoner that scores the choices does not produce).
* Both skip a record without their key (it leaves the denominator, so a wrong key scores
  nothing; with no record left MMAU's divides by zero) and score the rest with one rule:
  lower-cased word-token sets (``\b\w+\b``); correct when the prediction holds every
  answer token and no token of a wrong choice (tokens shared with the answer excepted, and
  a choice with exactly the answer's tokens is not a wrong choice); an empty prediction
  is wrong. The prediction must be a string (they call ``.lower()`` on it).

So each imported record is written back whole and unchanged, plus the prediction --
exactly the chosen choice's text, "" when the reasoner did not answer (counted wrong) --
under every key its benchmark's script reads, in the format of the file it was imported
from (``meta["input_format"]``): ``mmau_predictions.json`` (a JSON list),
``mmar_predictions.jsonl`` (JSON lines, as ``MMAR-meta.jsonl``), or ``mmar_predictions.json``
for a JSON-list copy. Non-ASCII text is written as ``\u`` escapes, as the benchmarks'
files do, because the scripts open the file in the locale's encoding.

Under the rule a chosen choice's text scores as our own check (chosen index == answer
index) does, except where the scripts are lenient: a wrong choice whose word-token set is
exactly the answer's (its words reordered or repeated, e.g. "From near to far" for "From
far to near", "Guitar, Piano, Guitar" for "Guitar, Piano"; 20 of MMAR's 1000 records, 8
of MMAU test-mini's 1000 besides 27 with a repeated choice) counts as correct for them and
wrong for us, so their accuracy can exceed ours by those items; and an answer without
any word token counts as wrong for them whatever is predicted (none in either benchmark).

    paths = write_benchmark_predictions(items, {item_id: "the chosen choice"}, out_dir)
    # -> out_dir/mmau_predictions.json, out_dir/mmar_predictions.jsonl (those present)

Items without an original record (e.g. the built-in suite) are skipped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from audiorouter.contracts import AudioQAItem

log = logging.getLogger(__name__)

# The keys each benchmark's scoring script reads the prediction from.
PREDICTION_KEYS: dict[str, tuple[str, ...]] = {
    "mmau": ("model_prediction", "model_output"),  # README's key, and the one evaluation.py reads
    "mmar": ("answer_prediction",),
}
DEFAULT_FORMAT = "json"  # items imported before meta["input_format"] existed came from a JSON list


def with_prediction(item: AudioQAItem, prediction: str) -> dict:
    """A copy of the item's original benchmark record with the prediction under each of
    its benchmark's keys."""
    record = dict(item.meta["original"])
    for key in PREDICTION_KEYS[item.meta["benchmark"]]:
        record[key] = prediction
    return record


def predictions_file_name(benchmark: str, input_format: str) -> str:
    """``<benchmark>_predictions.json`` or ``.jsonl``: the imported file's format."""
    return f"{benchmark}_predictions.{input_format}"


def write_benchmark_predictions(items: Sequence[AudioQAItem], predictions: Mapping[str, str],
                                out_dir: str | Path) -> list[Path]:
    """One predictions file per (benchmark, input format) among ``items`` that has a
    prediction; records in item order."""
    files: dict[str, list[dict]] = {}
    for item in items:
        benchmark = item.meta.get("benchmark")
        if not benchmark or "original" not in item.meta or item.id not in predictions:
            continue
        if benchmark not in PREDICTION_KEYS:
            log.warning("item %s: no write-back for benchmark %r (known: %s)", item.id, benchmark,
                        ", ".join(PREDICTION_KEYS))
            continue
        name = predictions_file_name(benchmark, item.meta.get("input_format", DEFAULT_FORMAT))
        files.setdefault(name, []).append(with_prediction(item, predictions[item.id]))
    out = Path(out_dir)
    paths = []
    for name, records in files.items():
        out.mkdir(parents=True, exist_ok=True)
        path = out / name
        path.write_text(dump_records(records, json_lines=name.endswith(".jsonl")), encoding="utf-8")
        paths.append(path)
    return paths


def dump_records(records: Sequence[dict], json_lines: bool) -> str:
    """A JSON list, or one JSON object per line with no blank line (MMAR's reader parses
    every line)."""
    if json_lines:
        return "".join(json.dumps(record) + "\n" for record in records)
    return json.dumps(list(records), indent=2) + "\n"


def prediction_text(choices: Sequence[str], chosen_index: int) -> str:
    """The chosen choice's text; "" when the reasoner could not answer."""
    return choices[chosen_index] if 0 <= chosen_index < len(choices) else ""
