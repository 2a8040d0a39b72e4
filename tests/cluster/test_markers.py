"""The node-group markers place each role: on a head with neither markers nor GPUs and a
worker that offers both (a logical GPU from ``ray start --num-gpus``), the reasoner actor,
the tool executors and the rollout workers' resource requests all land on the worker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audiorouter.cluster.local import LocalCluster

pytestmark = pytest.mark.slow

WHERE = """
import json, ray
from audiorouter.config import load_config
from audiorouter.reasoner.actor import start_reasoner_actors
from audiorouter.tool_execution.executor import ToolExecutorPool
ray.init()
config = load_config(None, ["reasoner.actor_num_gpus=1", "reasoner.actor_num_cpus=0.5", "reasoner.actor_resources={gpu_worker: 0.01}",
                            "reasoner.memo_path=", "tools.cache_dir=", "tools.num_actors=2",
                            "tools.actor_num_cpus=0.5", "tools.actor_resources={cpu_worker: 0.01}"])
head = next(n["NodeID"] for n in ray.nodes() if n["Alive"] and "node:__internal_head__" in n["Resources"])
reasoner = start_reasoner_actors(config.reasoner)[0]
node_of = ray.remote(num_cpus=0.25, resources={"cpu_worker": 0.01})(
    lambda: ray.get_runtime_context().get_node_id())  # a rollout worker's request, as RLlib makes it
pool = ToolExecutorPool(config.tools)
tool_nodes = ray.get([s.actor.__ray_call__.remote(lambda self: ray.get_runtime_context().get_node_id())
                      for s in pool._slots])
print(json.dumps({"head": head, "reasoner": ray.get(reasoner.__ray_call__.remote(
    lambda self: ray.get_runtime_context().get_node_id())), "rollout": ray.get(node_of.remote()),
    "tools": tool_nodes, "gpu_ids": ray.get(reasoner.__ray_call__.remote(lambda self: ray.get_gpu_ids()))}))
pool.shutdown()
"""


def test_markers_put_each_role_on_its_node_group(tmp_path):
    with LocalCluster(tmp_path, head_cpus=2) as cluster:
        cluster.add_worker(num_cpus=4, num_gpus=1, resources={"cpu_worker": 10, "gpu_worker": 10})
        found = json.loads(cluster.run_python(WHERE).strip().splitlines()[-1])
    assert found["reasoner"] != found["head"] and found["gpu_ids"] == [0]  # the worker's logical GPU
    assert found["rollout"] == found["reasoner"]
    assert found["tools"] == [found["reasoner"]] * 2
    assert not cluster.leftovers()
    assert not any(Path(folder).exists() for folder in cluster.temp_dirs), "the nodes' temp folders are removed"
    assert (tmp_path / "ray-logs-node1").is_dir(), "Ray's logs are kept with the test's"

