"""Speech recognition over the built-in suite: the plain faster-whisper call the tool made
before (``--before``: language detected on every clip, VAD inside whisper) against the
``transcribe`` tool as it is (VAD first, whisper only where it finds speech, the language
from ``tools.speech_language``), side by side on the same clips, as JSON.

    .venv/bin/python benchmarks/bench_transcribe.py                    # every speech item, 10 of each other family
    .venv/bin/python benchmarks/bench_transcribe.py --speech 8 --other 2   # quick

* ms per clip, per family, for both paths, and the ratio over the suite's family mix
  (one family in twelve is speech);
* words and word timings on every speech item compared (they must be identical);
* on the other families, how often each path says "no words recognised" (the tool must
  say so at least as often as before);
* the bound: a clip without speech costing nothing and a speech clip costing its
  transcription alone (what the tool's own VAD pass adds is the gap to it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from audiorouter.config import SynthConfig  # noqa: E402
from audiorouter.data.audio_io import decode_audio  # noqa: E402
from audiorouter.data.synth import make_item, plan_splits, resolve_families  # noqa: E402
from audiorouter.tools import get_tool  # noqa: E402
from audiorouter.tools.asr import NO_SPEECH_PROB, NO_WORDS, process_cpus  # noqa: E402
from audiorouter.tools.inputs import ClipLimits  # noqa: E402

SPEECH_FAMILY = "word_count"


def transcribe_before(model, audio: np.ndarray) -> tuple[str, list]:
    """The tool's call before this change: whisper's VAD and language detection on every clip."""
    segments, _ = model.transcribe(audio, beam_size=1, temperature=0.0, word_timestamps=True, vad_filter=True,
                                   condition_on_previous_text=False)
    segments = [s for s in segments if s.no_speech_prob < NO_SPEECH_PROB and s.text.strip()]
    text = " ".join(s.text.strip() for s in segments).strip()
    return text, [(w.word.strip(), round(w.start, 4), round(w.end, 4)) for s in segments for w in (s.words or [])]


def suite_items(n: int, seed: int, speech: int, other: int) -> dict[str, list]:
    """The first ``speech`` word_count items and ``other`` items of every other family of the
    built-in suite (``data.synth`` with ``n`` items and ``seed``), in the suite's order."""
    families = resolve_families()
    wanted = {f: (speech if f == SPEECH_FAMILY else other) for f in families}
    chosen: dict[str, list] = defaultdict(list)
    for family, index, _ in plan_splits(SynthConfig(n=n, seed=seed), families):
        if len(chosen[family]) < wanted[family]:
            chosen[family].append(make_item(family, index, seed))
    return chosen


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1200, help="items in the suite (quickstart: 1200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--speech", type=int, default=100, help="speech items (the quickstart suite has 100)")
    parser.add_argument("--other", type=int, default=10, help="items of every other family")
    parser.add_argument("--language", default="",
                        help="tools.speech_language for the tool (default: detect, as the built-in configs)")
    args = parser.parse_args(argv)

    tool = get_tool("transcribe")
    if tool.unavailable_reason():
        sys.exit(f"transcribe is unavailable here: {tool.unavailable_reason()}")
    limits = ClipLimits(speech_language=args.language)
    model = tool._load()  # the tool's model (same weights, threads) serves the before-path too
    items = suite_items(args.n, args.seed, args.speech, args.other)
    ms = {"before": defaultdict(list), "tool": defaultdict(list)}
    identical, differing, no_words = 0, [], {"before": 0, "tool": 0}
    for family, family_items in items.items():
        for item in family_items:
            audio, _ = decode_audio(item.audio)
            audio = np.ascontiguousarray(audio, dtype=np.float32)
            start = time.perf_counter()
            text, words = transcribe_before(model, audio)
            ms["before"][family].append((time.perf_counter() - start) * 1000)
            result = tool.run(audio, 16000, limits)
            ms["tool"][family].append(result.elapsed_ms)
            if not result.ok:
                sys.exit(f"{item.id}: the tool failed: {result.error}")
            tool_words = [(w["word"], round(w["start_s"], 4), round(w["end_s"], 4)) for w in result.data["words"]]
            if family == SPEECH_FAMILY:
                if (text, words) == (result.data["text"], tool_words):
                    identical += 1
                else:
                    differing.append({"item": item.id, "before": text, "tool": result.data["text"]})
            else:
                no_words["before"] += not text
                no_words["tool"] += result.summary == NO_WORDS
            print(f"{item.id}: before {ms['before'][family][-1]:.0f} ms, tool {result.elapsed_ms:.0f} ms",
                  file=sys.stderr)

    def mix_mean(path: str, speech_only: bool = False) -> float:
        # the suite's mix: every family equally often
        per_family = [0.0 if speech_only and f != SPEECH_FAMILY else statistics.mean(v) for f, v in ms[path].items()]
        return statistics.mean(per_family)

    others = sum(len(v) for f, v in items.items() if f != SPEECH_FAMILY)
    report = {
        "threads": process_cpus(), "language": args.language or "detect",
        "ms_per_clip_by_family": {f: {"before": round(statistics.mean(ms["before"][f])),
                                      "tool": round(statistics.mean(ms["tool"][f]))} for f in items},
        "ms_per_suite_item": {"before": round(mix_mean("before")), "tool": round(mix_mean("tool")),
                              "bound": round(mix_mean("tool", speech_only=True))},
        "speedup": round(mix_mean("before") / mix_mean("tool"), 2),
        "speech_items": {"n": len(items.get(SPEECH_FAMILY, [])), "identical_words_and_times": identical,
                         "differing": differing},
        "other_items": {"n": others, "no_words_before": no_words["before"], "no_words_tool": no_words["tool"]},
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
