"""Service figures: exec to READY=1, idle RSS, and heavy imports on the no-camera path.

Runs `edgehub run -c <config>` as systemd would (NOTIFY_SOCKET, WATCHDOG_USEC) against a private
Mosquitto, RUNS times, and prints the figures for bench/RESULTS.md ("Service").

    .venv/bin/python bench/service.py [--runs 5] [--idle 5] [--camera SOURCE|synthetic]
        [--classifier] [--no-owners]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub.broker import MosquittoBroker  # noqa: E402

EDGEHUB = str(Path(sys.executable).with_name("edgehub"))
# `edgehub run` with each camera's classifier attached, as the wiring does once it builds one
# from the camera's `classifier:` options (backends.extra["camera_analyze"]).
WITH_CLASSIFIER = """
import asyncio, sys
from hub.config import load_config
from hub.logs import setup_logging
from hub.runtime import Hub
from hub.wiring import Backends
from models.pipeline import build_pipeline

config = load_config(sys.argv[1])
setup_logging("info", "text")
backends = Backends(extra={"camera_analyze": lambda name, cam: build_pipeline(cam.classifier)})
asyncio.run(Hub(config, backends=backends).run(install_signals=True))
"""
HEAVY = ("cv2", "onnxruntime", "numpy")


def write_config(
    folder: Path, port: int, camera: str | None, classifier: bool, owners: bool = True
) -> Path:
    """Write the example home's hub.yaml on the given broker; cameras replaced by `camera`."""
    import yaml

    example = ROOT / "examples" / "home"
    conf = yaml.safe_load((example / "hub.yaml").read_text())
    conf["hub"].update(data_dir=str(folder / "data"), pin_factory="mock")
    conf.pop("broker", None)
    conf["mqtt"] = {"host": "127.0.0.1", "port": port}
    devices = {n: d for n, d in conf["devices"].items() if d.get("type") != "camera"}
    if camera:
        devices["porch_cam"] = {"type": "camera", "source": camera}
        if classifier:
            devices["porch_cam"]["classifier"] = {"threads": 1}
    conf["devices"] = devices
    if not owners:
        conf.pop("owners", None)
    # Relative paths (rules, secrets) resolve against the config file: point them at the example.
    for key in ("rules", "secrets"):
        if isinstance(conf.get(key), str):
            conf[key] = str(example / conf[key])
    path = folder / "hub.yaml"
    path.write_text(yaml.safe_dump(conf))
    return path


def synthetic_clip(path: Path, seconds: int = 20, fps: int = 5) -> str:
    """Write a 640x360 clip of a moving square (a file source loops in real time) and return it."""
    import cv2
    import numpy as np

    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (640, 360))
    for i in range(seconds * fps):
        img = np.full((360, 640, 3), 70, np.uint8)
        x = (i * 11) % 560
        img[140:220, x : x + 80] = 230
        w.write(img)
    w.release()
    return str(path)


def rss_mb(pid: int) -> dict[str, float]:
    """Return VmRSS, VmHWM, RssAnon and RssFile of a process in MB, and its thread count."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    out = {k: int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM", "RssAnon", "RssFile")}
    out["Threads"] = float(fields["Threads"])
    return out


def one_run(
    config: Path, folder: Path, idle: float, importtime: bool, classifier: bool
) -> dict[str, object]:
    """Start the daemon once; return time to READY, RSS after idling, stop time, imports."""
    sock_path = folder / f"notify-{time.monotonic_ns()}.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    env = dict(os.environ, NOTIFY_SOCKET=str(sock_path), WATCHDOG_USEC="20000000")
    if importtime:
        env["PYTHONPROFILEIMPORTTIME"] = "1"
    err = open(folder / "stderr.log", "w+b")  # noqa: SIM115 - read back after the process ends
    t0 = time.perf_counter()
    cmd = [sys.executable, "-c", WITH_CLASSIFIER] if classifier else [EDGEHUB, "run", "-c"]
    proc = subprocess.Popen([*cmd, str(config)], env=env, stdout=err, stderr=err)
    ready = None
    sock.settimeout(1.0)
    try:
        while time.perf_counter() - t0 < 30 and proc.poll() is None:
            try:
                msg = sock.recv(4096).decode()
            except TimeoutError:
                continue
            if "READY=1" in msg.splitlines():
                ready = time.perf_counter() - t0
                break
        if ready is None:
            raise SystemExit(f"no READY in 30 s; see {folder / 'stderr.log'}")
        time.sleep(idle)
        mem = rss_mb(proc.pid)
        t1 = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
        stop = time.perf_counter() - t1
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()
        sock_path.unlink()
    err.seek(0)
    log = err.read().decode(errors="replace")
    err.close()
    return {"ready": ready, "rss": mem["VmRSS"], "hwm": mem["VmHWM"], "anon": mem["RssAnon"],
            "file": mem["RssFile"], "threads": mem["Threads"], "stop": stop, "code": code,
            "log": log}  # fmt: skip


def heavy_imports(importtime_log: str) -> dict[str, list[str]]:
    """Return, per heavy module, the chain of imports that first pulled it in."""
    stack: list[tuple[int, str]] = []
    rows = []
    for line in importtime_log.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+\d+ \| (\s*)(\S+)", line)
        if m:
            rows.append((len(m.group(1)), m.group(2)))
    # importtime prints children before their parent, so walk it backwards to find the parents.
    found: dict[str, list[str]] = {}
    for depth, name in reversed(rows):
        while stack and stack[-1][0] >= depth:
            stack.pop()
        stack.append((depth, name))
        top = name.split(".")[0]
        if top in HEAVY and top not in found:
            found[top] = [n for _, n in stack]
    return found


def main() -> int:
    """Measure and print the service figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--idle", type=float, default=5.0, help="seconds idle before reading RSS")
    ap.add_argument("--camera", help="camera source, or 'synthetic' for a generated clip")
    ap.add_argument("--classifier", action="store_true", help="attach the shipped classifier")
    ap.add_argument("--no-owners", action="store_true", help="drop the owners and their channels")
    args = ap.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="edgehub-bench-") as tmp:
        folder = Path(tmp)
        camera = args.camera
        if camera == "synthetic":
            camera = synthetic_clip(folder / "porch.avi")
        with MosquittoBroker(folder / "broker") as broker:
            config = write_config(folder, broker.port, camera, args.classifier, not args.no_owners)
            label = f"one camera ({args.camera})" if args.camera else "no camera"
            label += ", no owners" if args.no_owners else ", owners alice and bob"
            if args.camera and args.classifier:
                label += " + classifier"
            probe = one_run(config, folder, 0.5, True, args.classifier)
            runs = [
                one_run(config, folder, args.idle, False, args.classifier) for _ in range(args.runs)
            ]
    ready = [r["ready"] for r in runs]
    rss = [r["rss"] for r in runs]
    print(f"edgehub service, {label}, {args.runs} runs, python {sys.version.split()[0]}, "
          f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"  exec -> READY=1   median {statistics.median(ready):.2f} s, max {max(ready):.2f} s")
    print(f"  idle RSS ({args.idle:.0f} s) median {statistics.median(rss):.1f} MB, "
          f"max {max(rss):.1f} MB (peak VmHWM {max(r['hwm'] for r in runs):.1f} MB)")  # fmt: skip
    print(f"  idle RSS, each run: {', '.join(f'{r:.1f}' for r in rss)} MB; anonymous "
          f"{statistics.median(r['anon'] for r in runs):.1f} MB, file-backed "
          f"{statistics.median(r['file'] for r in runs):.1f} MB, "
          f"{statistics.median(r['threads'] for r in runs):.0f} threads")  # fmt: skip
    stops = [r["stop"] for r in runs]
    print(f"  SIGTERM -> exit   median {statistics.median(stops):.2f} s, "
          f"exit codes {sorted({r['code'] for r in runs})}")  # fmt: skip
    chains = heavy_imports(str(probe["log"]))
    for mod in HEAVY:
        chain = chains.get(mod)
        print(f"  imports {mod}: " + (" <- ".join(reversed(chain)) if chain else "no"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
