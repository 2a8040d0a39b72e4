"""How much tool evidence changes the reasoner's answers, per task family, as JSON.

For every test item of a dataset: accuracy with no evidence, with the matching tool's
evidence (the tool that measures the family's quantity, table below) and with every
available tool's evidence. Tools run through the on-disk cache, so a second run only
asks the reasoner (and its memo answers that too).

    python benchmarks/evidence_gain.py --data data/perception [--set reasoner.backend=cascade ...]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

from tqdm import tqdm

from audiorouter.config import load_config
from audiorouter.contracts import ReasonerRequest
from audiorouter.data.audio_io import decode_audio
from audiorouter.data.store import iter_items
from audiorouter.reasoner import build_reasoner
from audiorouter.tools import ToolRunner, available_tools

# The tool whose measurement answers each family's question.
MATCHING_TOOL = {
    "note_name": "pitch", "interval": "pitch", "sweep_direction": "pitch", "note_count": "onsets",
    "event_count": "onsets", "tempo": "tempo", "chord_quality": "chords", "duration": "segments",
    "gap_position": "segments", "loudness_compare": "loudness", "brightness_compare": "spectral",
    "word_count": "transcribe",
}
CONDITIONS = ("no_evidence", "matching_tool", "all_tools")


def evaluate(data_dir: str, split: str, config, limit: int | None) -> dict:
    runner = ToolRunner.from_config(config.tools)
    reasoner = build_reasoner(config.reasoner)
    tools = available_tools()
    correct: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    items = list(iter_items(data_dir, split))[:limit]
    for item in tqdm(items, desc="evidence gain", unit="item"):
        wave, sr = decode_audio(item.audio)
        results = dict(zip(tools, runner.run(wave, sr, tools), strict=True))
        matching = MATCHING_TOOL.get(item.task)
        evidence = {
            "no_evidence": [],
            "matching_tool": [results[matching]] if matching in results else None,
            "all_tools": list(results.values()),
        }
        asked = {k: v for k, v in evidence.items() if v is not None}
        requests = [ReasonerRequest(item.id, wave, sr, item.question, item.choices, item.answer, ev)
                    for ev in asked.values()]
        for condition, outcome in zip(asked, reasoner.answer(requests), strict=True):
            correct[item.task][condition].append(bool(outcome.correct))
    return summarise(correct)


def summarise(correct: dict[str, dict[str, list[bool]]]) -> dict:
    per_family = {
        task: {c: round(sum(v[c]) / len(v[c]), 3) for c in CONDITIONS if v.get(c)} | {"n": len(v["no_evidence"])}
        for task, v in sorted(correct.items())
    }
    overall = {}
    for condition in CONDITIONS:
        values = [x for v in correct.values() for x in v.get(condition, [])]
        overall[condition] = round(sum(values) / len(values), 3) if values else None
    return {"per_family": per_family, "overall": overall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="dataset folder (default: data.dir)")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=None, help="first N items only")
    parser.add_argument("--config", default=None)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    config = load_config(args.config, args.overrides)
    report = evaluate(args.data or config.data.dir, args.split, config, args.limit)
    label = "reference reasoner" if config.reasoner.backend == "reference" else (
        f"{config.reasoner.backend}:{config.reasoner.model}")
    print(json.dumps({"benchmark": "evidence_gain", "reasoner": label, "split": args.split,
                      "matching_tool": MATCHING_TOOL, **report}, indent=2))


if __name__ == "__main__":
    main()
