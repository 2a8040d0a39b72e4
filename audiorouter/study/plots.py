"""Figures of the scaling study: accuracy against labelled training items (log x),
with each learned method's band over seeds, constant lines and accuracy targets; and
against the reasoner calls training consumed (the calls axis, study.costs)."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers
import matplotlib.pyplot as plt  # noqa: E402

from audiorouter.study.analysis import ConstantLine, Curve, StudyAnalysis  # noqa: E402

_TARGET_DASHES = [(0, (1, 1.5)), (0, (4, 2)), (0, (6, 2, 1, 2)), (0, (1, 4))]


def curves_figure(analysis: StudyAnalysis, path: str | Path) -> Path:
    """All methods on one axis; targets as grey lines, each method's N(a) as a cross."""
    colours = _colours(analysis)
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    _draw(ax, analysis.curves, analysis.constants, colours)
    for target, dashes in zip(analysis.targets, itertools.cycle(_TARGET_DASHES)):
        ax.axhline(target.accuracy, color="grey", linestyle=dashes, linewidth=1.0,
                   label=f"target {target.text}")
    for reach in analysis.items_to_target:
        if reach.items is not None:
            ax.plot(reach.items, reach.target, marker="x", color=colours[reach.method], markersize=6)
    ax.set(xscale="log", xlabel="labelled training items (log scale)", ylabel="test accuracy", ylim=(0, 1),
           title=f"accuracy vs training items ({analysis.reasoner}, {analysis.items} test items)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return _save(fig, path)


def calls_figure(analysis: StudyAnalysis, path: str | Path) -> Path:
    """Accuracy against the reasoner calls training consumed (log x): the methods whose
    every size recorded a positive count; the others are named in the title."""
    colours = _colours(analysis)
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    shown = [c for c in analysis.curves if c.calls is not None and min(c.calls) > 0]
    for curve in shown:
        ax.plot(curve.calls, curve.means, marker="o", markersize=3, color=colours[curve.method], label=curve.method)
    for line in analysis.constants:
        ax.axhline(line.accuracy, color=colours[line.method], linestyle="--", linewidth=1.0,
                   label=f"{line.method} (no training)")
    free = [c.method for c in analysis.curves if c.calls is not None and max(c.calls) == 0]
    unknown = [c.method for c in analysis.curves if c.calls is None]
    notes = ([f"no calls: {', '.join(free)}"] if free else []) + ([f"not recorded: {', '.join(unknown)}"]
                                                                   if unknown else [])
    ax.set(xscale="log" if shown else "linear", xlabel="reasoner calls consumed in training (log scale)",
           ylabel="test accuracy", ylim=(0, 1))
    ax.set_title(f"accuracy vs training reasoner calls ({analysis.reasoner})"
                 + ("\n" + "; ".join(notes) if notes else ""), fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return _save(fig, path)


def per_family_figure(analysis: StudyAnalysis, path: str | Path) -> Path:
    """One small panel per task family, with that family's plateau target."""
    colours = _colours(analysis)
    count = max(1, len(analysis.families))
    cols = min(3, count)
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.7 * rows), sharey=True, squeeze=False)
    for ax, family in zip(axes.flat, analysis.families, strict=False):
        _draw(ax, family.curves, family.constants, colours)
        ax.axhline(family.target.accuracy, color="grey", linestyle=":", linewidth=0.9)
        ax.set(xscale="log", ylim=(0, 1), title=f"{family.family} ({family.items} items)")
        ax.title.set_fontsize(8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(analysis.families):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(f"accuracy vs training items per task family ({analysis.reasoner}); "
                 "dotted: each family's target", fontsize=9)
    fig.supxlabel("labelled training items (log scale)", fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def _draw(ax, curves: list[Curve], constants: list[ConstantLine], colours: dict[str, str]) -> None:
    for curve in curves:
        colour = colours[curve.method]
        ax.plot(curve.sizes, curve.means, marker="o", markersize=3, color=colour, label=curve.method)
        low = [p.mean if p.low is None else p.low for p in curve.points]
        high = [p.mean if p.high is None else p.high for p in curve.points]
        ax.fill_between(curve.sizes, low, high, color=colour, alpha=0.2, linewidth=0)
    for line in constants:
        ax.axhline(line.accuracy, color=colours[line.method], linestyle="--", linewidth=1.0,
                   label=f"{line.method} (no training)")


def _colours(analysis: StudyAnalysis) -> dict[str, str]:
    names = [c.method for c in analysis.curves] + [c.method for c in analysis.constants]
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return {name: cycle[k % len(cycle)] for k, name in enumerate(names)}


def _save(fig, path: str | Path) -> Path:
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return Path(path)
