"""Joining or starting Ray, the same way for every command, job and benchmark.

With ``RAY_ADDRESS`` set (``ray job submit``, a cluster) the process joins that cluster;
otherwise it starts a private local session, loopback only, so token auth is turned
off for it. Workers load packaged models only (``HF_HUB_OFFLINE``).
"""

from __future__ import annotations

import contextlib
import os


def start_ray(log_to_driver: bool = False) -> bool:
    """Join or start Ray unless it is already up; whether this call started it."""
    import ray

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # inherited by every worker
    if ray.is_initialized():
        return False
    if not os.environ.get("RAY_ADDRESS"):
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(include_dashboard=False, log_to_driver=log_to_driver, configure_logging=False)
    return True


@contextlib.contextmanager
def ray_running():
    """Ray for one command: joins the running session or the cluster, or starts a local
    one that is stopped again on the way out."""
    import ray

    started = start_ray()
    try:
        yield
    finally:
        if started:
            ray.shutdown()
