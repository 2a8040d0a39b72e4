"""Run the scaling study as a Ray job (the cluster's address comes from Ray).

    ray job submit --working-dir . --runtime-env cluster/runtime_env.yaml -- \
        python ray_jobs/scaling_study.py --config configs/study.yaml [--set k=v ...]

Thin on purpose: the same code path as ``audiorouter study``. Resubmitting the same
config continues the study (finished trials are not rerun).
"""

from __future__ import annotations

import sys

from audiorouter.cli.main import main

if __name__ == "__main__":
    options = sys.argv[1:]
    sys.exit(main(["study", *options]))
