"""Cluster manifests: KubeRay's required fields, and resource totals that fit the configs
they run (placement packs every phase of a job onto the manifest's nodes)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from audiorouter.cluster.placement import (
    Bundle,
    Node,
    PlanError,
    nodes_from_manifest,
    pack,
    phase_demands,
    totals,
)
from audiorouter.config import load_config

ROOT = Path(__file__).resolve().parents[2]
KUBERAY = ROOT / "cluster" / "kuberay"
IMAGE_ROOT = "/app/"  # where the image keeps the repository (raycluster.yaml's commands)


def documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def kuberay(kind: str) -> list[dict]:
    return [d for p in sorted(KUBERAY.glob("*.yaml")) for d in documents(p) if d.get("kind") == kind]


def test_every_cluster_file_parses():
    files = sorted((ROOT / "cluster").rglob("*.yaml"))
    assert {p.name for p in files} >= {"runtime_env.yaml", "aws.yaml", "raycluster.yaml", "rayjob-train.yaml",
                                       "rayjob-study.yaml", "volumes.yaml", "secret-token.yaml"}
    for path in files:
        assert documents(path), path


def check_group(group: dict, where: str) -> None:
    params = group["rayStartParams"]
    assert all(isinstance(v, str) for v in params.values()), f"{where}: rayStartParams values must be strings"
    containers = group["template"]["spec"]["containers"]
    assert containers and all(c.get("name") and c.get("image") for c in containers), where
    limits = containers[0].get("resources", {}).get("limits", {})
    if "num-cpus" in params and params["num-cpus"] != "0":
        assert float(params["num-cpus"]) <= float(limits["cpu"]), f"{where}: more Ray CPUs than the pod has"
    assert params.get("num-gpus", "0") == str(limits.get("nvidia.com/gpu", "0")), f"{where}: GPUs disagree"


def test_raycluster_has_what_kuberay_requires():
    (cluster,) = kuberay("RayCluster")
    assert cluster["apiVersion"] == "ray.io/v1" and cluster["metadata"]["name"]
    head = cluster["spec"]["headGroupSpec"]
    check_group(head, "head")
    assert {p["containerPort"] for p in head["template"]["spec"]["containers"][0]["ports"]} >= {6379, 8265}
    for group in cluster["spec"]["workerGroupSpecs"]:
        name = group["groupName"]
        assert isinstance(group["minReplicas"], int) and isinstance(group["maxReplicas"], int), name
        assert group["minReplicas"] <= group.get("replicas", group["minReplicas"]) <= group["maxReplicas"], name
        check_group(group, name)
    claims = {d["metadata"]["name"] for d in kuberay("PersistentVolumeClaim")}
    secrets = {d["metadata"]["name"] for d in kuberay("Secret")}
    groups = [head] + cluster["spec"]["workerGroupSpecs"]
    for group in groups:
        pod = group["template"]["spec"]
        assert {v["persistentVolumeClaim"]["claimName"] for v in pod.get("volumes", [])} <= claims
        for env in pod["containers"][0]["env"]:
            if "valueFrom" in env:
                assert env["valueFrom"]["secretKeyRef"]["name"] in secrets


def job_config(entrypoint: str) -> tuple[str, str]:
    """(job kind, config path in the repository) from a RayJob entrypoint."""
    args = shlex.split(entrypoint)
    script = Path(args[1].removeprefix(IMAGE_ROOT))
    assert (ROOT / script).exists(), f"{script} is not in the repository"
    config = args[args.index("--config") + 1].removeprefix(IMAGE_ROOT)
    return ("study" if script.name == "scaling_study.py" else "train"), config


@pytest.mark.parametrize("job", kuberay("RayJob"), ids=lambda j: j["metadata"]["name"])
def test_rayjobs_run_a_config_that_fits_the_cluster(job):
    (cluster,) = kuberay("RayCluster")
    assert job["apiVersion"] == "ray.io/v1" and job["spec"]["entrypoint"]
    assert job["spec"]["clusterSelector"] == {"ray.io/cluster": cluster["metadata"]["name"]}
    assert isinstance(yaml.safe_load(job["spec"]["runtimeEnvYAML"]), dict)
    kind, config_path = job_config(job["spec"]["entrypoint"])
    config = load_config(ROOT / config_path)
    nodes = nodes_from_manifest(cluster)
    for bundles in phase_demands(config, kind).values():
        pack(bundles, nodes)  # raises PlanError, naming the actor, when a phase does not fit
    gpus = sum(n.resources.get("GPU", 0) for n in nodes)
    busiest = max(totals(b).get("GPU", 0) for b in phase_demands(config, kind).values())
    assert busiest == gpus, f"{config_path} keeps {gpus - busiest} of the cluster's {gpus} GPUs idle"


def test_the_launcher_config_starts_the_same_node_groups():
    launcher = documents(ROOT / "cluster" / "aws.yaml")[0]
    assert launcher["cluster_name"] and launcher["provider"]["type"] == "aws" and launcher["provider"]["region"]
    assert launcher["head_node_type"] in launcher["available_node_types"]
    for name, node_type in launcher["available_node_types"].items():
        assert {"node_config", "resources", "min_workers", "max_workers"} <= set(node_type), name
        assert node_type["min_workers"] <= node_type["max_workers"], name
    (cluster,) = kuberay("RayCluster")

    def shapes(nodes: list[Node]) -> list[tuple]:
        return sorted(tuple(sorted((k, v) for k, v in n.resources.items() if v)) for n in nodes)

    assert shapes(nodes_from_manifest(launcher)) == shapes(nodes_from_manifest(cluster))


def test_packing_is_per_node_and_names_what_does_not_fit():
    nodes = [Node("a", {"CPU": 2.0}), Node("b", {"CPU": 2.0, "GPU": 1.0, "gpu_worker": 10.0})]
    placed = pack([Bundle("reasoner", {"CPU": 1.0, "GPU": 1.0, "gpu_worker": 0.01}), Bundle("tool", {"CPU": 2.0})],
                  nodes)
    assert [(b.role, n) for b, n in placed] == [("reasoner", "b"), ("tool", "a")]
    with pytest.raises(PlanError, match="a big one needing"):
        pack([Bundle("big one", {"CPU": 3.0})], nodes)  # 4 CPUs in all, but no node has 3
    with pytest.raises(PlanError, match="marked"):
        pack([Bundle("marked", {"CPU": 1.0, "cpu_worker": 0.01})], nodes)


def test_custom_resources_are_read_in_both_quotings():
    group = {"rayStartParams": {"num-cpus": "4", "resources": '"{\\"cpu_worker\\": 1000}"'},
             "template": {"spec": {"containers": [{"name": "w", "image": "i"}]}}}
    spec = {"headGroupSpec": group, "workerGroupSpecs": [dict(group, groupName="g", replicas=1)]}
    nodes = nodes_from_manifest({"kind": "RayCluster", "spec": spec})
    assert nodes[1].resources == {"CPU": 4.0, "GPU": 0.0, "cpu_worker": 1000.0}
    group["rayStartParams"]["resources"] = '{"cpu_worker": 5}'
    assert nodes_from_manifest({"kind": "RayCluster", "spec": spec})[1].resources["cpu_worker"] == 5.0


def test_placement_knobs_reach_rllib():
    import numpy as np

    from audiorouter.rl.env import RouterEnvSpec
    from audiorouter.rl.trainer import action_space, algorithm_config

    config = load_config(ROOT / "configs" / "cluster.yaml", ["train.learner_resources={cpu_worker: 0.01}"])

    spec = RouterEnvSpec(["i"], np.zeros((1, 3), np.float32), action_space(config.router, ["pitch"]), None)
    algo = algorithm_config(config.train, config.router, spec)
    assert algo.custom_resources_per_env_runner == {"cpu_worker": 0.01}
    assert algo.custom_resources_per_learner == {"cpu_worker": 0.01}


def test_the_plan_command_says_what_does_not_fit(capsys):
    from audiorouter.cli.main import main

    args = ["--config", str(ROOT / "configs" / "cluster.yaml"), "cluster", "plan",
            "--manifest", str(KUBERAY / "raycluster.yaml")]
    assert main(args) == 0
    assert "gpu-workers-0: 4 reasoner" in capsys.readouterr().out
    assert main(args + ["--set", "reasoner.num_actors=9"]) == 1
    assert "does not fit: no node has room for a reasoner" in capsys.readouterr().out
