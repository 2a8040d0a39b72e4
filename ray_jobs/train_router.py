"""Train and evaluate the router as a Ray job (the cluster's address comes from Ray).

    ray job submit --working-dir . --runtime-env cluster/runtime_env.yaml -- \
        python ray_jobs/train_router.py --config configs/quickstart.yaml [--resume] [--set k=v ...]

Thin on purpose: the same code path as ``audiorouter train``.
"""

from __future__ import annotations

import sys

from audiorouter.cli.main import main

if __name__ == "__main__":
    options = sys.argv[1:]
    sys.exit(main(["train", *options]))
