"""A multi-node Ray cluster on one machine, started with ``ray start`` as users start one:
for the cluster tests and benchmarks, and for trying node loss locally.

    with LocalCluster(tmp_path) as cluster:        # head (token auth on, loopback only)
        cluster.add_worker(num_gpus=1, resources={"gpu_worker": 10})
        cluster.run_python(script)                # a driver connected to the cluster
        cluster.ray_cli("job", "submit", ...)     # the CLI with the cluster's address and token
        cluster.kill_worker_raylet()              # the worker node is lost

Each node is a ``ray start --block`` process of its own, so stopping the cluster stops
exactly these nodes (``ray stop`` would stop every Ray process on the machine). The
health checks are shortened so the head notices a lost node within seconds.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

VENV_BIN = Path(sys.executable).parent
FAST_HEALTH_CHECKS = {"RAY_health_check_period_ms": "1000", "RAY_health_check_timeout_ms": "1000",
                      "RAY_health_check_failure_threshold": "3", "RAY_health_check_initial_delay_ms": "1000"}
STOP_GRACE_S = 5.0  # after SIGTERM, then SIGKILL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalCluster:
    def __init__(self, log_dir: str | Path, head_cpus: int = 2, head_gpus: int = 0,
                 head_resources: dict[str, float] | None = None) -> None:
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # one folder per node, short (Unix socket paths are limited): nodes sharing one would
        # share runtime_resources, and one node's clean-up would delete another's job files
        self.temp_dirs = [tempfile.mkdtemp(prefix="ar2n", dir="/tmp")]
        self.port, self.dashboard_port = free_port(), free_port()
        self.env = os.environ.copy() | FAST_HEALTH_CHECKS | {
            "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32), "RAY_USAGE_STATS_ENABLED": "0",
            # as with the environment active: `python` in a job's entrypoint is the project's
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", "VIRTUAL_ENV": str(VENV_BIN.parent)}
        self.env.pop("RAY_ADDRESS", None)
        self.nodes: list[subprocess.Popen] = []
        self._start_node("head", ["--head", f"--port={self.port}", "--dashboard-host=127.0.0.1",
                                  f"--dashboard-port={self.dashboard_port}", f"--temp-dir={self.temp_dirs[0]}"],
                         head_cpus, head_gpus, head_resources)
        try:
            self._wait_for(lambda: self.alive_nodes() >= 1, "the head")
        except BaseException:
            self.stop()
            raise

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def dashboard(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    def add_worker(self, num_cpus: int = 2, num_gpus: int = 0, resources: dict[str, float] | None = None) -> None:
        before = self.alive_nodes()
        self.temp_dirs.append(tempfile.mkdtemp(prefix="ar2n", dir="/tmp"))
        self._start_node(f"worker{len(self.nodes)}", [f"--address={self.address}", f"--temp-dir={self.temp_dirs[-1]}"],
                         num_cpus, num_gpus, resources)
        self._wait_for(lambda: self.alive_nodes() > before, "the worker node")

    def _start_node(self, name: str, args: list[str], cpus: int, gpus: int, resources: dict | None) -> None:
        # every node on this machine needs its own ports (the defaults collide: 52365, ...)
        ports = [f"--{name}={free_port()}" for name in (
            "dashboard-agent-listen-port", "dashboard-agent-grpc-port", "runtime-env-agent-port",
            "metrics-export-port", "node-manager-port", "object-manager-port", "ray-client-server-port")]
        command = [str(VENV_BIN / "ray"), "start", "--block", "--node-ip-address=127.0.0.1",
                   f"--num-cpus={cpus}", f"--num-gpus={gpus}", "--object-store-memory=150000000",
                   "--disable-usage-stats", *ports, *args]
        if resources:
            command.append(f"--resources={json.dumps(resources)}")
        log = open(self.log_dir / f"{name}.log", "w")  # noqa: SIM115 (kept open for the node's life)
        self.nodes.append(subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True))

    # ----------------------------------------------------------------- talking to it

    def run_python(self, code: str, timeout: float = 180) -> str:
        """Run ``code`` in a driver connected to the cluster; its stdout."""
        env = self.env | {"RAY_ADDRESS": self.address}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout)
        if done.returncode:
            raise RuntimeError(f"driver failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def ray_cli(self, *args: str, timeout: float = 180, check: bool = True) -> subprocess.CompletedProcess:
        """``ray GROUP VERB --address <dashboard> REST`` with the cluster's token (the address goes
        before REST, which may end in ``-- entrypoint``)."""
        command = [str(VENV_BIN / "ray"), *args[:2], "--address", self.dashboard, *args[2:]]
        done = subprocess.run(command, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        if check and done.returncode:
            raise RuntimeError(f"ray {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def alive_nodes(self) -> int:
        code = "import ray; ray.init(); print(sum(n['Alive'] for n in ray.nodes()))"
        try:
            return int(self.run_python(code, timeout=60).strip().splitlines()[-1])
        except (RuntimeError, subprocess.TimeoutExpired, ValueError, IndexError):
            return 0

    # ----------------------------------------------------------------- losing a node

    def raylet_of(self, node: subprocess.Popen) -> psutil.Process:
        for child in psutil.Process(node.pid).children(recursive=True):
            if child.name().startswith("raylet"):
                return child
        raise RuntimeError(f"no raylet under ray start pid {node.pid}")

    def kill_worker_raylet(self, index: int = 1) -> None:
        """SIGKILL the worker node's raylet, as when its machine is lost; wait until the head knows."""
        alive = self.alive_nodes()
        self.raylet_of(self.nodes[index]).kill()
        self._wait_for(lambda: self.alive_nodes() < alive, "the head to notice the lost node", timeout=90)

    def _wait_for(self, condition, what: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(1.0)
        raise TimeoutError(f"waited {timeout:.0f} s for {what}; logs in {self.log_dir}")

    # ----------------------------------------------------------------- stopping

    def stop(self) -> None:
        """Stop every process of these nodes (and only them), workers included."""
        procs = []
        for node in self.nodes:
            try:
                procs += [psutil.Process(node.pid), *psutil.Process(node.pid).children(recursive=True)]
            except psutil.NoSuchProcess:
                pass
        procs += [p for p in psutil.process_iter(["cmdline"]) if self._ours(p)]
        for node in self.nodes:
            if node.poll() is None:
                os.killpg(node.pid, signal.SIGTERM)  # ray start --block stops its node's processes
        # most exit at once; `ray start --block`, the autoscaler monitor and an agent were
        # still up 25 s after SIGTERM when measured, and hold nothing this cluster needs kept
        _, still = psutil.wait_procs(procs, timeout=STOP_GRACE_S)
        for proc in still:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(still, timeout=10)
        self._keep_ray_logs_and_remove_temp_dirs()

    def _keep_ray_logs_and_remove_temp_dirs(self) -> None:
        # the temp folders sit in /tmp (short socket paths): move Ray's logs next to the
        # nodes' own logs, where a failing test can still be read, and leave nothing behind
        for index, folder in enumerate(self.temp_dirs):
            logs = Path(folder) / "session_latest" / "logs"
            if logs.is_dir():
                shutil.copytree(logs, self.log_dir / f"ray-logs-node{index}", dirs_exist_ok=True,
                                ignore_dangling_symlinks=True)
            shutil.rmtree(folder, ignore_errors=True)

    def leftovers(self) -> list[str]:
        """Processes of this cluster still running (there should be none after stop)."""
        return [" ".join(p.info["cmdline"])[:120] for p in psutil.process_iter(["cmdline"]) if self._ours(p)]

    def _ours(self, proc: psutil.Process) -> bool:
        cmdline = " ".join(proc.info["cmdline"] or [])
        return any(folder in cmdline for folder in self.temp_dirs)

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
