"""Plots people would rather see than read: learning curve, tool usage per task."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from audiorouter.evaluation.report import SUMMARY_POLICIES  # noqa: E402


def learning_curve(history: Sequence[dict], path: str | Path) -> Path:
    """Mean reward and accuracy (with routed evidence vs none) per iteration."""
    steps = [h["iteration"] for h in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.plot(steps, [h["mean_reward"] for h in history], color="tab:purple")
    left.set(xlabel="iteration", ylabel="mean reward", title="reward")
    right.plot(steps, [h["accuracy"] for h in history], label="router's evidence")
    right.plot(steps, [h["no_tool_accuracy"] for h in history], label="no tools", linestyle="--")
    right.set(xlabel="iteration", ylabel="accuracy", title="reasoner accuracy on sampled items", ylim=(0, 1))
    right.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def tool_usage(tasks: Sequence[str], chosen: Sequence[tuple[str, ...]], tools: Sequence[str],
               path: str | Path, title: str = "router: tool call rate per task family") -> Path:
    """Heat map task x tool: the fraction of the task's items the tool was called for."""
    names = sorted(set(tasks))
    rates = np.array([[np.mean([t in s for s, task in zip(chosen, tasks, strict=True) if task == name])
                       for t in tools] for name in names])
    fig, ax = plt.subplots(figsize=(1.2 + 0.7 * len(tools), 1.0 + 0.4 * len(names)))
    image = ax.imshow(rates, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(tools)), tools, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    for i in range(len(names)):
        for j in range(len(tools)):
            ax.text(j, i, f"{rates[i, j]:.1f}", ha="center", va="center",
                    color="white" if rates[i, j] < 0.5 else "black", fontsize=7)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.03)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def accuracy_by_task(report, path: str | Path) -> Path:
    """Grouped bars: accuracy per task family for each summary policy of ``report``
    (an ``EvaluationReport``)."""
    shown = [p for p in report.policies if p.name in SUMMARY_POLICIES]
    tasks = sorted({t for p in shown for t in p.per_task})
    width = 0.8 / max(1, len(shown))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.0 + 0.9 * len(tasks)), 3.8))
    x = np.arange(len(tasks))
    for k, p in enumerate(shown):
        ax.bar(x + (k - (len(shown) - 1) / 2) * width, [p.per_task.get(t, 0.0) for t in tasks], width,
               label=p.name)
    ax.set_xticks(x, tasks, rotation=30, ha="right")
    ax.set(ylabel="accuracy", ylim=(0, 1), title=f"accuracy by task family ({report.split} split)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
