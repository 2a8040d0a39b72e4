"""``audiorouter serve --router CKPT [--port 8000]``: the online Ray Serve application."""

from __future__ import annotations

import argparse
import signal
import time

from audiorouter.cli.common import add_leaf, load_with_flags


def register(commands: argparse._SubParsersAction) -> None:
    text = "serve POST /v1/answer (multipart: audio, question, choices as JSON) and GET /healthz"
    parser = add_leaf(commands, "serve", help=text, description=text + " with Ray Serve.")
    parser.add_argument("--router", required=True,
                        help="a checkpoint folder (runs/NAME/checkpoints/iter-N) or its policy/ folder")
    parser.add_argument("--port", type=int, help="HTTP port (serve.port, default 8000)")
    parser.add_argument("--host", help="bind address (serve.host, default 127.0.0.1)")
    parser.add_argument("--max-upload-mb", type=float,
                        help="largest accepted request body in MiB (serve.max_upload_mb, default 16)")
    parser.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    import ray

    from audiorouter.cluster.session import start_ray
    from audiorouter.outcomes.state_check import check_shared_state
    from audiorouter.router.policy import policy_dir
    from audiorouter.serving.app import start

    cfg = load_with_flags(args, {"serve.port": args.port, "serve.host": args.host,
                                 "serve.max_upload_mb": args.max_upload_mb})
    router = policy_dir(args.router)
    check_shared_state(cfg, tracking=False)  # a damaged memo or cache: one clear error, now
    start_ray(log_to_driver=True)  # replica errors show in this terminal
    served = cfg.serve
    start(str(router), cfg.tools, cfg.reasoner, served)
    print(f"serving on http://{served.host}:{served.port}  (POST /v1/answer; GET /healthz, /readyz, /stats); "
          "Ctrl-C stops", flush=True)
    # `kill` and job stops shut down cleanly too; SIGINT explicitly, as servers do, because a
    # process started in the background of a non-interactive shell inherits it ignored
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        while True:
            # short sleeps: a signal the kernel hands to another thread (Ray's) does not wake
            # this one, and Python runs the handler only when this thread wakes
            time.sleep(0.5)
    except KeyboardInterrupt:
        from ray import serve

        print("stopping", flush=True)
        serve.shutdown()
        ray.shutdown()
    return 0


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt
