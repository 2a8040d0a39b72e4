"""The scaling study's outputs: ``study.json`` (everything), ``study.md`` (tables to
paste into a paper, each headed with the reasoner that produced its numbers),
``curves.png`` (against labelled items), ``calls.png`` (against training reasoner
calls) and ``per_family.png``."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

from audiorouter.study.analysis import CallsToTarget, Curve, ItemsToTarget, RatioEstimate, StudyAnalysis
from audiorouter.study.bootstrap import LOWER, TWO_SIDED, UPPER, RatioInterval
from audiorouter.study.costs import NOT_RECORDED
from audiorouter.study.methods import get_method, method_names
from audiorouter.study.plots import calls_figure, curves_figure, per_family_figure


def write_study_outputs(analysis: StudyAnalysis, out_dir: str | Path, appendix: Sequence[str] = ()) -> list[Path]:
    """Write the five outputs into ``out_dir`` (created if missing); returns their paths.
    ``appendix``: markdown lines that end study.md (the study's cost)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "study.json").write_text(json.dumps(analysis.to_dict(), indent=2))
    (out / "study.md").write_text(render_markdown(analysis) + ("\n" + "\n".join(appendix) if appendix else ""))
    return [out / "study.json", out / "study.md", curves_figure(analysis, out / "curves.png"),
            calls_figure(analysis, out / "calls.png"), per_family_figure(analysis, out / "per_family.png")]


def render_markdown(analysis: StudyAnalysis) -> str:
    a, ref = analysis, analysis.ref_method
    line = "not measured" if a.line is None else f"{a.line.accuracy:.3f} ({a.line.method})"
    where = "the fixed test split" if a.split == "test" else f"the out-of-distribution split '{a.split}'"
    title = "" if a.split == "test" else f", {a.split} split"
    lines = [f"# Scaling study ({a.reasoner}{title})", "",
             f"All numbers: {a.reasoner}, {where} of {a.items} items. Reference method: {ref}.", "",
             "Protocol:", "",
             f"- Training-free line: {line}; {a.definitions['line']}.",
             "- Targets: the line plus fractions of its gap to oracle routing, configured absolute targets, and "
             f"a fraction of the {a.definitions['plateau']}; a target the line meets is reported as met "
             "without training, never as a ratio.",
             f"- Band: {a.definitions['band']}.",
             f"- Validation rule: {_validation_rule(a)}",
             f"- Ratios: {a.resamples} bootstrap resamples (seed {a.seed}); {a.definitions['bootstrap']}.",
             f"- Router pools: {a.definitions['pools']}.", ""]
    sizes = _sizes(a.curves)
    lines += [f"## Accuracy vs labelled training items ({a.reasoner}; N=0: untrained)", "",
              *_accuracy_head(sizes, False)]
    lines += [_accuracy_row(c, sizes) for c in a.curves]
    if a.constants:
        lines += ["", f"## Constant lines, no training ({a.reasoner})", "",
                  "| method | accuracy | 95% Wilson interval | items | tools per item |", "|---|---|---|---|---|"]
        lines += [f"| {c.method} | {c.accuracy:.3f} | [{c.low:.3f}, {c.high:.3f}] | {c.items} | "
                  f"{'—' if c.mean_tools is None else f'{c.mean_tools:.2f}'} |" for c in a.constants]
    lines += ["", f"## Targets ({a.reasoner})", "", "| target | accuracy | rule | without training |", "|---|---|---|---|"]
    lines += [f"| {t.label} | {t.accuracy:.3f} | {t.kind} | "
              f"{'met by ' + t.met_without_training if t.met_without_training else 'not met'} |" for t in a.targets]
    lines += ["", f"## Items needed to reach each target ({a.reasoner})", "",
              "| method | " + " | ".join(t.text for t in a.targets) + " |",
              "|---" * (len(a.targets) + 1) + "|"]
    for curve in a.curves:
        cells = [_items(r) if t.met_without_training is None else f"{_items(r)}; met without training"
                 for t, r in zip(a.targets, [r for r in a.items_to_target if r.method == curve.method], strict=True)]
        lines.append(f"| {_name(curve.method)} | " + " | ".join(cells) + " |")
    lines += _calls_tables(a, sizes)
    lines += ["", f"## Data-efficiency ratio N_method(a) / N_{ref}(a) ({a.reasoner})", "",
              f"| method | target a | N_method | N_{ref} | ratio (mean curves) | 95% statement (bootstrap) | "
              f"both inside their grids | undefined | reached in resamples (method / {ref}) | "
              "ratio counting validation items |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {_name(r.method)} | {r.target.text} | {_items(r.n_method)} | "
              f"{_items(r.n_ref)} | {_ratio(r)} | {_interval(r)} | {_share(r, 'inside')} | "
              f"{_share(r, 'undefined')} | {_shares(r)} | {_counted(r)} |" for r in a.ratios]
    lines += _calls_ratio_table(a)
    met = [t.text for t in a.targets if t.met_without_training]
    if met:
        lines += ["", f"No ratio for {', '.join(met)}: the training-free line already meets "
                  f"{'it' if len(met) == 1 else 'them'}."]
    lines += ["", *_family_tables(a)]
    return "\n".join(lines) + "\n"


def _calls_tables(a: StudyAnalysis, sizes: list[int]) -> list[str]:
    """What each size's training cost in reasoner calls, and the calls to each target."""
    lines = ["", f"## Training reasoner calls per size ({a.reasoner}; mean over seeds)", "",
             f"Calls: {a.definitions['calls']}.", "", *_accuracy_head([n for n in sizes if n], False)]
    for curve in a.curves:
        by_size = {p.train_size: p.calls for p in curve.points}
        cells = [("–" if n not in by_size else NOT_RECORDED if by_size[n] is None else f"{by_size[n]:,.0f}")
                 for n in sizes if n]
        lines.append(f"| {_name(curve.method)} | " + " | ".join(cells) + " |")
    lines += ["", f"## Training reasoner calls to reach each target ({a.reasoner})", "",
              "| method | " + " | ".join(t.text for t in a.targets) + " |", "|---" * (len(a.targets) + 1) + "|"]
    for curve in a.curves:
        spent = [c for c in a.calls_to_target if c.method == curve.method]
        lines.append(f"| {_name(curve.method)} | " + " | ".join(_calls(c) for c in spent) + " |")
    return lines


def _calls_ratio_table(a: StudyAnalysis) -> list[str]:
    ref = a.ref_method
    rows = [r for r in a.ratios if r.calls_ratio is not None]
    lines = ["", f"## Calls ratio C_method(a) / C_{ref}(a) ({a.reasoner})", ""]
    if not rows:
        return [*lines, f"No calls ratio: {ref}'s or every other method's training calls are not recorded."]
    lines += ["| method | target a | ratio (mean curves) | 95% statement (bootstrap) | items ratio, for comparison |",
              "|---|---|---|---|---|"]
    free = {c.method for c in a.curves if c.calls is not None and max(c.calls) == 0}
    lines += [f"| {_name(r.method)} | {r.target.text} | "
              + ("0 (no calls) | – |" if r.method in free else
                 f"{_bound(r.kind)}{r.calls_ratio:.3g} | {_statement(r.calls_interval, '.3g')} |")
              + f" {_ratio(r)} |" for r in rows]
    unrecorded = [c.method for c in a.curves if c.calls is None]
    if unrecorded:
        lines += ["", f"Not recorded: {', '.join(unrecorded)} (results kept before trials counted their calls)."]
    return lines


def _calls(c: CallsToTarget) -> str:
    if c.status == NOT_RECORDED:
        return NOT_RECORDED
    if c.calls_at_max == 0:
        return "not reached (no calls)" if c.calls is None else "0 (no calls)"
    if c.calls is None:
        return f"not reached (≥ {c.calls_at_max:,.0f} spent at N_max)"
    if c.status == "reached at the smallest size":
        return f"≤ {c.calls:,.0f} (reached at the smallest size)"
    return f"{c.calls:,.0f}"


def _name(method: str) -> str:
    """A method as every table names it: with its note (e.g. supervised-router's label rule)."""
    note = get_method(method).note if method in method_names() else ""
    return f"{method} ({note})" if note else method


def _bound(kind: str) -> str:
    return {"lower bound": "≥ ", "upper bound": "≤ ", "indeterminate": "≈ "}.get(kind, "")


def _validation_rule(a: StudyAnalysis) -> str:
    uses = [f"{c.method} ({c.validation_items})" for c in a.curves if c.validation_items]
    if not uses:
        return "no method chose anything on validation items."
    return (f"{', '.join(uses)} chose their configuration and stopping step on that many labelled validation "
            "items, which their N does not count; the other methods use none. The ratio table gives both "
            "readings: N as trained, and N plus the validation items.")


def _counted(r: RatioEstimate) -> str:
    if r.ratio_counting_validation is None:
        return "–"
    return f"{_bound(r.kind)}{r.ratio_counting_validation:.2f}"


def _accuracy_head(sizes: list[int], family: bool) -> list[str]:
    lead = ["family", "method"] if family else ["method"]
    return ["| " + " | ".join(lead + [f"N={n}" for n in sizes]) + " |", "|---" * (len(lead) + len(sizes)) + "|"]


def _sizes(curves: list[Curve]) -> list[int]:
    return sorted({n for c in curves for n in c.sizes} | ({0} if any(c.untrained for c in curves) else set()))


def _accuracy_row(curve: Curve, sizes: list[int], family: str | None = None) -> str:
    by_size = {p.train_size: p for p in curve.points} | ({0: curve.untrained} if curve.untrained else {})
    cells = [_name(curve.method)] + [_point(by_size[n]) if n in by_size else "–" for n in sizes]
    return "| " + " | ".join(([family] if family is not None else []) + cells) + " |"


def _family_tables(a: StudyAnalysis) -> list[str]:
    sizes = _sizes([c for f in a.families for c in f.curves])
    lines = [f"## Accuracy per task family ({a.reasoner})", "", *_accuracy_head(sizes, True)]
    lines += [_accuracy_row(c, sizes, f.family) for f in a.families for c in f.curves]
    lines += ["", f"## Data-efficiency ratio per task family, at each family's own target ({a.reasoner}; "
              "point estimates)", "",
              f"| family | items | target a | method | N_method | N_{a.ref_method} | ratio |",
              "|---|---|---|---|---|---|---|"]
    for f in a.families:
        if f.target.met_without_training:
            lines.append(f"| {f.family} | {f.items} | {f.target.accuracy:.3f} ({f.target.label}) | – | – | – | "
                         f"met without training by {f.target.met_without_training} |")
        lines += [f"| {f.family} | {f.items} | {f.target.accuracy:.3f} ({f.target.label}) | {_name(r.method)} | "
                  f"{_items(r.n_method)} | {_items(r.n_ref)} | {_ratio(r)} |" for r in f.ratios]
    return lines


def _point(p) -> str:
    band = "" if p.low is None else f" [{p.low:.3f}, {p.high:.3f}]"
    return f"{p.mean:.3f}{band} ({len(p.seeds)} seed{'s' if len(p.seeds) != 1 else ''})"


def _n(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def _items(reach: ItemsToTarget) -> str:
    untrained = "; met untrained (N=0)" if reach.met_untrained else ""
    if reach.items is None:
        return f"not reached by N_max={reach.n_max}{untrained}"
    if reach.status == "reached at the smallest size":
        return f"≤ {_n(reach.items)} (reached at the smallest size){untrained}"
    return _n(reach.items) + untrained


def _ratio(r: RatioEstimate) -> str:
    if r.kind == "undefined":
        return f"undefined ({r.n_ref.method} not reached by N_max={r.n_ref.n_max})"
    if r.n_method.items is None:
        return f"not reached by N_max={r.n_method.n_max} (ratio ≥ {r.ratio:.2f})"
    return _bound(r.kind) + f"{r.ratio:.2f}" + (
        " (both reached at their smallest size)" if r.kind == "indeterminate" else "")


def _interval(r: RatioEstimate) -> str:
    return _statement(r.interval)


def _statement(i: RatioInterval | None, digits: str = ".2f") -> str:
    if i is None:
        return "–"
    if i.form == TWO_SIDED:
        return f"[{_value(i.low, digits)}, {_value(i.high, digits)}]"
    if i.form == LOWER:
        return f"≥ {_value(i.low, digits)} (one-sided; {i.behind:.1%} of resamples)"
    if i.form == UPPER:
        return f"≤ {_value(i.high, digits)} (one-sided; {i.behind:.1%} of resamples)"
    return "no bound"


def _value(v: float, digits: str = ".2f") -> str:
    return "∞" if math.isinf(v) else format(v, digits)


def _share(r: RatioEstimate, name: str) -> str:
    return "–" if r.interval is None else f"{getattr(r.interval, name):.1%}"


def _shares(r: RatioEstimate) -> str:
    if r.interval is None:
        return "–"
    return f"{r.interval.reached_method:.0%} / {r.interval.reached_ref:.0%}"
