"""``audiorouter serve --router CKPT [--port 8000]``: the online Ray Serve application."""

from __future__ import annotations

import argparse
import time

from audiorouter.cli.common import add_leaf
from audiorouter.config import load_config


def register(commands: argparse._SubParsersAction) -> None:
    text = "serve POST /v1/answer (multipart: audio, question, choices as JSON) and GET /healthz"
    parser = add_leaf(commands, "serve", help=text, description=text + " with Ray Serve.")
    parser.add_argument("--router", required=True,
                        help="a checkpoint folder (runs/NAME/checkpoints/iter-N) or its policy/ folder")
    parser.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--max-upload-mb", type=float, default=16.0, help="largest accepted request body (MiB)")
    parser.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    import ray

    from audiorouter.cli.eval_cmd import policy_dir
    from audiorouter.serving.app import start

    cfg = load_config(args.config, list(args.overrides))
    router = policy_dir(args.router)
    ray.init(ignore_reinit_error=True, include_dashboard=False)
    start(str(router), cfg.tools, cfg.reasoner, port=args.port, host=args.host,
          max_upload_bytes=int(args.max_upload_mb * 1024 * 1024))
    print(f"serving on http://{args.host}:{args.port}  (POST /v1/answer, GET /healthz); Ctrl-C stops", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        from ray import serve

        serve.shutdown()
    return 0
