"""Generate the built-in perception suite as a Ray job.

    ray job submit --working-dir . --runtime-env cluster/runtime_env.yaml -- \
        python ray_jobs/synth_suite.py --config configs/quickstart.yaml --set data.synth.n=5000

Thin on purpose: parse the config, build, run. The data lands in ``data.dir`` on the
node that runs the driver (use a shared filesystem path on a real cluster).
"""

from __future__ import annotations

import sys

from audiorouter.cli.main import main

if __name__ == "__main__":
    sys.exit(main([*sys.argv[1:], "data", "synth"]))
