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
"""

from __future__ import annotations

RESERVED = {"CPU", "GPU", "memory", "object_store_memory"}  # each has its own knob


def resources_problem(key: str, resources: dict[str, float]) -> str | None:
    """Why ``resources`` (a config knob named ``key``) cannot be passed to Ray, or None."""
    for name, amount in resources.items():
        if name in RESERVED or name.lower() in {"cpu", "gpu"}:
            return f"{key}: {name!r} has its own setting; list custom resources only (node-group markers)"
        if not name or not amount > 0:
            return f"{key}: every custom resource needs a name and an amount > 0, got {name!r}: {amount}"
    return None
