"""Replay speed and peak memory on a synthetic busy week (200,000 journaled events).

The journal is written through hub/store.py as the hub would: sensor inputs (motion, doors,
temperature, camera detections, MQTT buttons) and the effects the current rules had on them
(lights' state events caused by the motion, notify.sent), computed by the engine at journal
time. The replay then runs in a child process (so ru_maxrss is the replay's own) through new
rules that change half the lights' `for:`; a second child replays a 20,000-event journal to
show memory does not grow with the journal. Run: .venv/bin/python bench/replay.py [--events N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

# bench/rules.py would shadow the `rules` package: drop this folder from the path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(__file__)]

N_LIGHTS, N_DOORS, N_TEMPS, N_CAMS = 10, 5, 10, 2
CURRENT = (
    "".join(
        f"""
- id: motion_light_{i}
  triggers: [{{device: motion_{i}, attribute: occupancy, to: true}}]
  conditions: [{{time: {{after: "17:00", before: "08:00"}}}}]
  actions: [{{light: light_{i}, state: on, brightness: 70%, for: 2m}}]
  mode: restart
"""
        for i in range(N_LIGHTS)
    )
    + "".join(
        f"""
- id: door_{i}
  triggers: [{{device: door_{i}, attribute: contact, to: false}}]
  conditions: [{{time: {{after: "23:00", before: "06:00"}}}}]
  actions: [{{notify: alice, title: "door_{i} opened at night"}}]
"""
        for i in range(N_DOORS)
    )
    + "".join(
        f"""
- id: person_{i}
  triggers: [{{camera: cam_{i}, detected: person, min_score: 0.7}}]
  actions: [{{notify: alice, title: "person at cam_{i}"}}, {{record: cam_{i}, for: 30s}}]
  mode: single
"""
        for i in range(N_CAMS)
    )
    + """
- id: hot
  triggers: [{device: temp_0, attribute: temperature, above: 26}]
  actions: [{publish: home/fan/set, payload: "ON"}]
- id: button
  triggers: [{topic: buttons/hall, payload: single}]
  actions: [{light: light_0, state: toggle}]
"""
)


def known() -> dict[str, str]:
    """Device types for the rule loader."""
    d = {f"motion_{i}": "motion" for i in range(N_LIGHTS)}
    d |= {f"light_{i}": "light" for i in range(N_LIGHTS)}
    d |= {f"door_{i}": "contact" for i in range(N_DOORS)}
    d |= {f"temp_{i}": "sensor" for i in range(N_TEMPS)}
    d |= {f"cam_{i}": "camera" for i in range(N_CAMS)}
    return d


def write_journal(data_dir: Path, rules_dir: Path, n_events: int, seed: int = 1) -> float:
    """Journal a synthetic week ending now; return how long writing took."""
    from hub.replay import RuleSim, load_rule_dir
    from hub.store import Store
    from rules import effects as fx
    from rules.events import Event

    t_start = time.perf_counter()
    rnd = random.Random(seed)
    sim = RuleSim(load_rule_dir(rules_dir, known()), lights=[f"light_{i}" for i in range(N_LIGHTS)])
    t = time.time() - 7.5 * 86400
    step = 7 * 86400 / n_events * 0.85  # inputs leave room for the effects they cause
    occ: dict[str, bool] = {}
    written = 0
    sim.start(t, {})
    with Store(data_dir) as store:
        while written < n_events:
            t += rnd.expovariate(1 / step)
            r = rnd.random()
            if r < 0.4:
                dev = f"motion_{rnd.randrange(N_LIGHTS)}"
                occ[dev] = not occ.get(dev, False)
                ev = Event("state", dev, {"occupancy": occ[dev], "battery": 90}, ts=t)
            elif r < 0.75:
                dev = f"temp_{rnd.randrange(N_TEMPS)}"
                data = {"temperature": round(rnd.gauss(21, 3), 1), "humidity": rnd.randint(30, 70)}
                ev = Event("state", dev, data, ts=t)
            elif r < 0.85:
                dev = f"door_{rnd.randrange(N_DOORS)}"
                occ[dev] = not occ.get(dev, True)
                ev = Event("state", dev, {"contact": occ[dev]}, ts=t)
            elif r < 0.95:
                label = rnd.choice(["person", "car", "cat"])
                data = {"label": label, "score": round(rnd.uniform(0.5, 1), 2), "box": [1, 2, 3, 4]}
                ev = Event("camera.detection", f"cam_{rnd.randrange(N_CAMS)}", data, ts=t)
            else:
                data = {"topic": "buttons/hall", "payload": rnd.choice(["single", "double"])}
                ev = Event("mqtt.message", "mqtt", data, ts=t)
            sim.handle(ev, t)
            fired, _ = sim.take_step()
            store.append(ev)
            written += 1
            for f in fired:  # what the live hub journals for the effects it carried out
                e = f.effect
                if isinstance(e, fx.LightCommand) and e.state != "toggle":
                    data = {"state": e.state.upper()}
                    out = Event("state", e.device, data, ts=f.ts + 0.005, cause=e.cause)
                elif isinstance(e, fx.Notify):
                    note = {"notification": f"n{written}", "rule": e.rule, "status": "sent"}
                    out = Event("notify.sent", "notify", note, ts=f.ts + 0.2, cause=e.cause)
                else:
                    continue
                store.append(out)
                written += 1
        store.flush(60)
    return time.perf_counter() - t_start


def child(db: str, old: str, new: str, trace: bool) -> None:
    """Replay in this process and print figures as JSON."""
    from hub.replay import replay

    if trace:
        tracemalloc.start()
    lights = [f"light_{i}" for i in range(N_LIGHTS)]
    r = replay(db, new, current_rules=old, known_devices=known(), lights=lights)
    out = {
        "events": r.events,
        "inputs": r.inputs,
        "elapsed_s": round(r.elapsed_s, 2),
        "events_per_s": round(r.events_per_s),
        "differences": r.differences_total,
        "mismatches": len(r.journal_mismatches),
        "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if trace:
        out["tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 1e6, 1)
    print(json.dumps(out))


def run_child(db: Path, old: Path, new: Path, trace: bool = False) -> dict:
    """Run one replay in a fresh interpreter and return its figures."""
    cmd = [sys.executable, __file__, "--child", str(db), str(old), str(new)]
    if trace:
        cmd.append("--trace")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    """Write the journals, replay them, print the figures."""
    p = argparse.ArgumentParser()
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--child", nargs=3)
    p.add_argument("--trace", action="store_true")
    a = p.parse_args()
    if a.child:
        child(*a.child, trace=a.trace)
        return
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        root = Path(tmp)
        old, new = root / "old", root / "new"
        for d, text in ((old, CURRENT), (new, CURRENT.replace("for: 2m", "for: 5m", 5))):
            d.mkdir()
            (d / "rules.yaml").write_text(text)
        for n in (a.events // 10, a.events):
            data = root / f"data{n}"
            w = write_journal(data, old, n)
            size = (data / "edgehub.db").stat().st_size / 1e6
            print(f"journal of {n:,} events written in {w:.1f} s ({size:.0f} MB)", flush=True)
            fig = run_child(data / "edgehub.db", old, new)
            print(f"  replay: {json.dumps(fig)}", flush=True)
            if n == a.events:
                fig = run_child(data / "edgehub.db", old, new, trace=True)
                print(f"  with tracemalloc (slower): {json.dumps(fig)}", flush=True)
    print(f"cpu count {os.cpu_count()}, load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
