"""Where each role runs on a cluster: custom resources as node-group markers.

A node group declares a marker resource when it starts (``ray start --resources
'{"cpu_worker": 1000}'``, or ``rayStartParams.resources`` in KubeRay), and a role asks for
a sliver of it (``tools.actor_resources: {cpu_worker: 0.01}``), so the scheduler puts that
role on that group and nowhere else. GPUs need no marker: an actor that asks for a GPU
lands where GPUs are. Each role's knob:

    reasoner.actor_resources      reasoner actors and Serve replicas
    tools.actor_resources         CPU tool executors and batch tool workers
    train.env_runner_resources    rollout workers (RLlib EnvRunners)
    train.learner_resources       learner actors (when train.num_learners >= 1)
    study.trial_resources         each study trial (Ray Tune)

Empty (the default) means anywhere, as on one machine.

Sizing a cluster for a config (``audiorouter cluster plan`` prints it):

    demand = phase_demands(config, "train")      # {"tool pass": [Bundle...], "training": [...]}
    nodes = nodes_from_manifest(yaml_doc)         # a KubeRay RayCluster or a cluster-launcher config
    placement = pack(demand["training"], nodes)   # bundle -> node, or PlanError naming what does not fit

The phases follow the drivers: the tool pass (tool executors, released after it) comes
before the reasoner actors, rollout workers and learners (training) or the reasoner
actors and concurrent trials (study). Packing is first-fit-decreasing over whole nodes,
as Ray places each actor on one node.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

JOBS = ("train", "study")


class PlanError(ValueError):
    """A bundle that no node can hold, or a manifest this module cannot read."""


@dataclass
class Bundle:
    role: str
    resources: dict[str, float]  # Ray resource names: CPU, GPU and custom markers


@dataclass
class Node:
    name: str  # group name and index
    resources: dict[str, float]


def _bundle(role: str, cpus: float, gpus: float = 0.0, custom: dict[str, float] | None = None) -> Bundle:
    resources = {"CPU": cpus, "GPU": gpus, **(custom or {})}
    return Bundle(role, {k: float(v) for k, v in resources.items() if v})


def phase_demands(config: Any, job: str) -> dict[str, list[Bundle]]:
    """The actors of each phase of ``job`` ("train" or "study") under ``config``."""
    if job not in JOBS:
        raise PlanError(f"job must be one of {', '.join(JOBS)}, got {job!r}")
    tools, reasoner, train, study = config.tools, config.reasoner, config.train, config.study
    tool_pass = [_bundle("tool executor", tools.actor_num_cpus, 0, tools.actor_resources)] * tools.num_actors
    tool_pass += [_bundle("GPU tool executor", tools.actor_num_cpus, tools.gpu_per_actor)] * tools.gpu_actors
    reasoners = [_bundle("reasoner", reasoner.actor_num_cpus, reasoner.actor_num_gpus,
                         reasoner.actor_resources)] * reasoner.num_actors
    if job == "train":
        runners = [_bundle("rollout worker", train.cpus_per_env_runner, 0, train.env_runner_resources)]
        # RLlib's "auto" CPUs per learner: 1 without a GPU, 0 with one
        learner = _bundle("learner", 0 if train.num_gpus_per_learner else 1, train.num_gpus_per_learner,
                          train.learner_resources)
        return {"tool pass": tool_pass,
                "training": reasoners + runners * train.num_env_runners + [learner] * train.num_learners}
    trial = _bundle("study trial", study.trial_cpus, study.trial_gpus, study.trial_resources)
    return {"tool pass": tool_pass, "study": reasoners + [trial] * max(1, study.max_concurrent_trials)}


def pack(bundles: list[Bundle], nodes: list[Node]) -> list[tuple[Bundle, str]]:
    """Each bundle on a node with room for all of it (largest first); PlanError when one cannot fit."""
    free = [dict(n.resources) for n in nodes]
    placed = []
    for bundle in sorted(bundles, key=lambda b: (-b.resources.get("GPU", 0), -b.resources.get("CPU", 0))):
        for node, room in zip(nodes, free, strict=True):
            if all(room.get(k, 0.0) >= v - 1e-9 for k, v in bundle.resources.items()):
                for k, v in bundle.resources.items():
                    room[k] -= v
                placed.append((bundle, node.name))
                break
        else:
            left = {n.name: {k: round(v, 3) for k, v in r.items() if v} for n, r in zip(nodes, free, strict=True)}
            raise PlanError(f"no node has room for a {bundle.role} needing {bundle.resources}; "
                            f"free after the others: {left}")
    return placed


def totals(bundles: list[Bundle]) -> dict[str, float]:
    out: dict[str, float] = {}
    for bundle in bundles:
        for k, v in bundle.resources.items():
            out[k] = out.get(k, 0.0) + v
    return out


# ----------------------------------------------------------------------- manifests


def nodes_from_manifest(doc: dict) -> list[Node]:
    """The nodes a KubeRay RayCluster (or a RayJob's ``rayClusterSpec``) or a Ray
    cluster-launcher config starts with (workers at ``replicas`` / ``min_workers``)."""
    if doc.get("kind") == "RayCluster":
        return _kuberay_nodes(doc["spec"])
    if doc.get("kind") == "RayJob" and "rayClusterSpec" in doc.get("spec", {}):
        return _kuberay_nodes(doc["spec"]["rayClusterSpec"])
    if "available_node_types" in doc:
        return _launcher_nodes(doc)
    raise PlanError("not a RayCluster, a RayJob with a rayClusterSpec, or a cluster-launcher config")


def _kuberay_nodes(spec: dict) -> list[Node]:
    nodes = [Node("head", _kuberay_resources(spec["headGroupSpec"]))]
    for group in spec.get("workerGroupSpecs", []):
        count = group.get("replicas", group.get("minReplicas", 0))
        nodes += [Node(f"{group['groupName']}-{i}", _kuberay_resources(group)) for i in range(count)]
    return nodes


def _kuberay_resources(group: dict) -> dict[str, float]:
    """What Ray on such a pod offers: rayStartParams win, else the container's limits."""
    params = group.get("rayStartParams", {})
    limits = group["template"]["spec"]["containers"][0].get("resources", {}).get("limits", {})
    resources = {"CPU": float(params.get("num-cpus", _cpu_quantity(limits.get("cpu", 0)))),
                 "GPU": float(params.get("num-gpus", limits.get("nvidia.com/gpu", 0)))}
    if "resources" in params:
        resources |= {k: float(v) for k, v in _custom_resources(params["resources"]).items()}
    return resources


def _custom_resources(text: str) -> dict[str, float]:
    """rayStartParams.resources is JSON, which KubeRay passes to the shell; it is often
    written with an extra pair of quotes ('"{\\"x\\": 1}"')."""
    text = text.strip()
    if text.startswith('"') and text.endswith('"'):
        text = text[1:-1].replace('\\"', '"')
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(f"rayStartParams.resources is not JSON: {text!r}") from exc


def _cpu_quantity(value: Any) -> float:
    text = str(value)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def _launcher_nodes(doc: dict) -> list[Node]:
    nodes = []
    for name, node_type in doc["available_node_types"].items():
        count = 1 if name == doc["head_node_type"] else int(node_type.get("min_workers", 0))
        resources = {k: float(v) for k, v in node_type.get("resources", {}).items()}
        nodes += [Node(f"{name}-{i}", resources) for i in range(count)]
    return nodes
