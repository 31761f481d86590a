"""The mosquitto bridge section a site broker needs to join the centre (tests, bench, docs).

Why not `topic edgehub/# both 1`: a bridge replays every retained message it holds on each
reconnect, in both directions, so after the centre restarts each site pushes its old copies of
the other sites' topics back to the centre and the centre pushes old copies of a site's own
topics back to it (measured: a hub's own device state overwritten by the value it had before
the cut). Each site therefore sends out only its own namespace and the commands it gives
others, and takes everything in; the hub re-asserts its own retained topics if an old copy
comes back (hub/remote/component.py).
"""

from __future__ import annotations

# What other hubs read of a hub. Its QoS 0 event and trace streams stay on the site: mosquitto
# leaves Nagle on a bridge's outgoing socket, and a command queued behind a QoS 0 message waits
# for the centre's delayed ACK, about 40 ms (bench/RESULTS.md, Multisite).
LEAN_TOPICS = (
    ("status", 1),
    ("devices", 1),
    ("link", 1),
    ("alive", 0),
    ("+/state", 1),
    ("rules/+/state", 1),
)


def bridge_config(
    hub: str,
    address: str,
    *,
    username: str | None = None,
    password: str | None = None,
    cafile: str | None = None,
    certfile: str | None = None,
    keyfile: str | None = None,
    restart: tuple[int, int] = (1, 30),
    keepalive: int = 20,
    share: str = "state",
) -> str:
    """Return the `connection` block for the site whose hub id is `hub`.

    share="state" sends up only what other hubs and a dashboard on the centre use (LEAN_TOPICS);
    share="all" the hub's whole namespace, with its event and trace streams.
    """
    lines = [
        f"connection edgehub-{hub}",
        f"address {address}",
        # Unique on the centre: a second bridge with the same id would kick the first off.
        f"remote_clientid bridge-{hub}",
        # A persistent session: QoS 1 messages for a site wait on the centre while it is away.
        "cleansession false",
        *(
            [f"topic edgehub/{hub}/# out 1"]
            if share == "all"
            else [f"topic edgehub/{hub}/{t} out {q}" for t, q in LEAN_TOPICS]
        ),
        "topic edgehub/+/+/set out 1",
        "topic edgehub/# in 1",
        # $SYS/broker/connection/bridge-<hub>/state: 1/0 on the site's broker when the bridge
        # goes up/down. Local only: others learn that we are gone from our silent heartbeat.
        "notifications true",
        "notifications_local_only true",
        "try_private true",
        f"restart_timeout {restart[0]} {restart[1]}",
        f"keepalive_interval {keepalive}",
    ]
    if username:
        lines.append(f"remote_username {username}")
    if password:
        lines.append(f"remote_password {password}")
    if cafile:
        lines.append(f"bridge_cafile {cafile}")
    if certfile and keyfile:
        lines += [f"bridge_certfile {certfile}", f"bridge_keyfile {keyfile}"]
    return "\n".join(lines) + "\n"
