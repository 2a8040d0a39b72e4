"""``audiorouter data synth|info|import``: build, inspect and import audio-QA datasets."""

from __future__ import annotations

import argparse
import sys
import time

from audiorouter.cli.common import add_leaf, load_checked, load_with_flags


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("data", help="generate, import and inspect audio-QA datasets")
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    synth = add_leaf(
        sub,
        "synth",
        help="generate the built-in perception suite (sharded Parquet, 16 kHz mono FLAC)",
        description="Generate the seeded perception suite with train/validation/test splits. "
        "Options left out come from the config (data.synth.*, data.dir).",
    )
    synth.add_argument("--n", type=int, help="number of items over all splits (data.synth.n)")
    synth.add_argument("--seed", type=int, help="suite seed; same seed, same items (data.synth.seed)")
    synth.add_argument("--out", help="output folder (data.dir)")
    synth.add_argument(
        "--families", help="comma-separated task families (data.synth.families; default: all available)"
    )
    synth.add_argument("--list-families", action="store_true", help="list the task families and exit")
    synth.set_defaults(handler=run_synth)

    info = add_leaf(sub, "info", help="summarise a dataset: items per split, task and difficulty")
    info.add_argument("dir", nargs="?", help="dataset folder (default: data.dir)")
    info.set_defaults(handler=run_info)

    imp = add_leaf(
        sub,
        "import",
        help="import a local copy of MMAU or MMAR (bad records go to rejects.jsonl)",
        description="Decode, resample to 16 kHz mono and store a benchmark's records as Parquet. "
        "Records that cannot be used are written to OUT/rejects.jsonl with the reason; the "
        "command fails only when no valid record remains.",
    )
    imp.add_argument("format", choices=("mmau", "mmar"), help="the benchmark's record layout")
    imp.add_argument("--json", required=True,
                     help="the benchmark's records: a JSON list (.json, e.g. mmau-test-mini.json) or one "
                     "JSON object per line (.jsonl, e.g. MMAR-meta.jsonl); eval writes predictions back "
                     "in the same format")
    imp.add_argument("--audio-root", required=True, help="folder the records' audio paths are relative to")
    imp.add_argument("--out", required=True, help="output dataset folder")
    imp.add_argument("--max-duration", type=float, help="reject longer clips, seconds (data.imports.max_duration_s)")
    imp.add_argument("--split", help="split to write the records to (data.imports.split)")
    imp.set_defaults(handler=run_import)


def run_synth(args: argparse.Namespace) -> int:
    from audiorouter.data.synth import family_names, get_family, synthesize_dataset

    if args.list_families:
        for name in family_names():
            family = get_family(name)
            reason = family.unavailable_reason()
            print(f"{name:<20} {family.category:<7} {'' if reason is None else 'unavailable: ' + reason}")
        return 0
    if args.families is not None:
        args.families = "[" + args.families + "]"
    config = load_with_flags(args, {"data.synth.n": args.n, "data.synth.seed": args.seed, "data.dir": args.out,
                                    "data.synth.families": args.families})
    started = time.perf_counter()
    report = synthesize_dataset(config.data.synth, config.data.dir)
    elapsed = time.perf_counter() - started
    print(f"{report.render()} in {elapsed:.1f} s")
    return 0


def run_info(args: argparse.Namespace) -> int:
    from audiorouter.data.items import dataset_info

    folder = args.dir or load_checked(args.config, args.overrides).data.dir
    try:
        print(dataset_info(folder).render())
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def run_import(args: argparse.Namespace) -> int:
    from audiorouter.data.importers import NothingValidError, import_mmar, import_mmau

    config = load_with_flags(args, {"data.imports.max_duration_s": args.max_duration, "data.imports.split": args.split})
    importer = import_mmau if args.format == "mmau" else import_mmar
    try:
        report = importer(args.json, args.audio_root, args.out, config.data.imports)
    except NothingValidError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.render())
    return 0
