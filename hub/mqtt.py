"""The hub's MQTT link: paho-mqtt 2.x (hub/mqtt_client.py), a bounded inbox into asyncio.

In the hub the link's network I/O runs on the asyncio loop (hub/mqtt_loop.py); elsewhere
(tests, tools) paho runs its own thread. Either way the reading must never stop, so every
callback catches everything, and messages go through Inbox (hub/inbox.py), which wakes the
loop only when it goes from empty to busy (one wakeup per burst, not per message) and
counts what it drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from hub.inbox import Inbox, Message
from hub.mqtt_client import LinkClient
from hub.mqtt_loop import LoopDriver
from hub.mqtt_settings import BrokerLogin, LinkSettings

__all__ = ["BrokerLogin", "Inbox", "LinkSettings", "Message", "MqttError", "MqttLink"]

log = logging.getLogger(__name__)

_UNSUPPORTED_PROTOCOL = (1, 132)  # 3.1.1 "unacceptable protocol version" / 5 "unsupported"


class MqttError(RuntimeError):
    """The MQTT link cannot be set up."""


class _HeldWake:
    """Stands in for paho's wake-up socket while wake-ups are coalesced; records a send."""

    def __init__(self) -> None:
        self.pending = False

    def send(self, data: bytes) -> int:
        self.pending = True
        return len(data)

    def close(self) -> None:
        """paho resets its sockets; nothing to close here."""


class _Qos0Info:
    """A shared stand-in for paho's MQTTMessageInfo of QoS 0 publishes nobody waits on."""

    mid = 0
    rc = mqtt.MQTT_ERR_SUCCESS

    def _set_as_published(self) -> None:
        """paho calls this once the packet is written."""


_QOS0_INFO = _Qos0Info()


class MqttLink:
    """A persistent-session MQTT client that reconnects forever and re-subscribes.

    on_loop=True (the hub): the network I/O runs on the inbox's asyncio loop (see
    hub/mqtt_loop.py), and start() must be called on that loop. Otherwise paho runs its
    own thread, and the loop need not be running yet.
    """

    def __init__(self, settings: LinkSettings, inbox: Inbox, *, on_loop: bool = False):
        self.settings = settings
        self.inbox = inbox
        self.on_loop = on_loop
        self._driver: LoopDriver | None = None
        # On the loop nothing may wait for the inbox to drain: a full inbox stops reading.
        self._put_wait = 0.0 if on_loop else 0.2
        self.connected = threading.Event()
        self.connects = 0
        self.generation = 0
        self.disconnects = 0
        self.protocol = mqtt.MQTTv311 if settings.protocol == "3.1.1" else mqtt.MQTTv5
        self._subs: dict[str, int] = {}
        self._no_local: set[str] = set()
        self._suback = threading.Condition()
        self._pending_subs: set[int] = set()
        self._early_acks: set[int] = set()
        self._lock = threading.Lock()
        self._client = self._make_client()
        self._state = "new"
        self._stopping = False
        self._on_connect_hooks: list[Callable[[], None]] = []
        self._wake_lock = threading.Lock()
        self._holds = 0
        self._held: Any = None
        self._fast_qos0 = True
        handler = inbox.handler
        inbox.handler = lambda items: self.coalesced(handler, items)

    # -- setup ------------------------------------------------------------------------------
    def _make_client(self) -> LinkClient:
        s = self.settings
        v5 = self.protocol == mqtt.MQTTv5
        client = LinkClient(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=s.client_id,
            protocol=self.protocol,
            clean_session=None if v5 else False,
            # Acked only once journaled (ack()), so a crash before the commit means redelivery.
            manual_ack=True,
        )
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(s.min_backoff, s.max_backoff)
        client.will_set(s.status_topic, "offline", qos=1, retain=True)
        s.login.apply(client)
        client.on_connect = self._on_connect
        client.on_socket_open = self._on_socket_open
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.fast_message = self._deliver
        return client

    def add_connect_hook(self, fn: Callable[[], None]) -> None:
        """Call fn (on paho's thread) after every successful (re)connect."""
        self._on_connect_hooks.append(fn)

    def start(self) -> None:
        """Connect in the background; paho retries forever with backoff."""
        s = self.settings
        log.info("mqtt connecting host=%s port=%d client_id=%s", s.host, s.port, s.client_id)
        self._connect_async(self._client)

    def _connect_async(self, client: mqtt.Client) -> None:
        s = self.settings
        if self.protocol == mqtt.MQTTv5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = s.session_expiry
            client.connect_async(s.host, s.port, s.keepalive, clean_start=False, properties=props)
        else:
            client.connect_async(s.host, s.port, s.keepalive)
        if not self.on_loop:
            client.loop_start()
            return
        inbox = self.inbox
        self._driver = LoopDriver(
            inbox.loop,
            client,
            min_backoff=s.min_backoff,
            max_backoff=s.max_backoff,
            room=inbox.room,
            connects=lambda: self.connects,
        )
        self._driver.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Publish `offline` (retained), disconnect and stop the network thread."""
        self._stopping = True
        client = self._client
        # The loop itself cannot wait here for what only the loop would do.
        can_wait = self._driver is None or asyncio._get_running_loop() is not self.inbox.loop
        if self.connected.is_set():
            try:
                info = client.publish(self.settings.status_topic, "offline", qos=1, retain=True)
                if can_wait:
                    info.wait_for_publish(timeout)
            except (RuntimeError, ValueError) as exc:
                log.warning("mqtt offline not published error=%s", exc)
        client.disconnect()
        self._stop_driver(client, min(timeout, 2.0) if can_wait else 0.0)
        client.loop_stop()
        self.connected.clear()

    def _stop_driver(self, client: LinkClient, wait: float) -> None:
        # After disconnect(): the loop writes the DISCONNECT and closes the socket; whatever
        # is still open after `wait` is closed by the driver (no will: DISCONNECT was sent).
        driver = self._driver
        if driver is None or client.io is not driver:
            return
        deadline = time.monotonic() + wait
        while client.socket() is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        driver.stop()

    def wait_connected(self, timeout: float | None = None) -> bool:
        """Block until connected (or timeout); return whether it is."""
        return self.connected.wait(timeout)

    # -- use (any thread) -------------------------------------------------------------------
    def publish(
        self,
        topic: str,
        payload: str | bytes,
        qos: int = 1,
        retain: bool = False,
        *,
        flush: bool = False,
    ) -> None:
        """Queue a publish; paho sends it now or after the next reconnect.

        flush (on the loop): write it, and whatever is queued before it, at once instead of
        after the inbox batch being handled: a light command should not wait for the
        journal hand-off and state publishes of the reading that caused it."""
        if qos == 0 and self._fast_qos0:
            try:
                self._publish_qos0(topic, payload, retain)
                return
            except (AttributeError, TypeError) as exc:  # a paho without these internals
                log.warning("mqtt fast publish unavailable, using publish() error=%r", exc)
                self._fast_qos0 = False
        client = self._client
        info = client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            log.warning("mqtt publish failed topic=%s rc=%s", topic, info.rc)
        elif flush and self._driver is not None and self._on_loop():
            # What write_now cannot finish (a full socket) is left to the driver's writer.
            client.write_now()

    def _publish_qos0(self, topic: str, payload: str | bytes, retain: bool) -> None:
        # publish() builds an MQTTMessageInfo with its own threading.Condition for every
        # message, a third of the hub's per-event time for the QoS 0 event stream; nobody
        # waits on a QoS 0 message, so one shared stand-in does. Our topics are not filters.
        data = payload.encode() if isinstance(payload, str) else payload
        self._client.publish_qos0(topic, data, retain, _QOS0_INFO)

    def ack(self, messages: list[Message]) -> None:
        """Acknowledge handled QoS 1/2 messages (any thread), skipping older connections'."""
        self.coalesced(self._ack, messages)

    def _ack(self, messages: list[Message]) -> None:
        client, gen = self._client, self.generation
        for m in messages:
            if m.qos and m.gen == gen:
                client.ack(m.mid, m.qos)

    def _on_loop(self) -> bool:
        return asyncio._get_running_loop() is self.inbox.loop

    def coalesced(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run fn(*args), waking paho's network thread once at the end, not per packet."""
        if self._driver is not None:
            return self._coalesced_on_loop(fn, *args)
        # paho writes a byte to its wake-up socketpair for every packet queued from another
        # thread: a syscall and a GIL hand-off to the network thread per publish/ack, which
        # was the largest single cost of a burst. One wake-up per batch sends the same bytes.
        self._hold_wakeups()
        try:
            return fn(*args)
        finally:
            self._release_wakeups()

    def _coalesced_on_loop(self, fn: Callable[..., Any], *args: Any) -> Any:
        # The calling thread writes what it queued once it is done (write_now), instead of
        # a write pass per packet on the loop; what it cannot write, the loop does.
        client = self._client
        with self._wake_lock:
            client.write_holds += 1
        try:
            return fn(*args)
        finally:
            with self._wake_lock:
                client.write_holds -= 1
                last = not client.write_holds
            if last and client.want_write() and not client.write_now() and client.io:
                client.io.want_write()

    def _hold_wakeups(self) -> None:
        with self._wake_lock:
            self._holds += 1
            client = self._client
            if self._holds == 1 and threading.current_thread() is not client._thread:
                real = client._sockpairW
                if real is not None and not isinstance(real, _HeldWake):
                    self._held = (client, real)
                    client._sockpairW = _HeldWake()

    def _release_wakeups(self) -> None:
        with self._wake_lock:
            self._holds -= 1
            if self._holds or self._held is None:
                return
            (client, real), self._held = self._held, None
            held = client._sockpairW
            if not isinstance(held, _HeldWake):
                real.close()  # paho reset its sockets meanwhile and made new ones
                return
            client._sockpairW = real
            if held.pending and not client.write_now():
                with contextlib.suppress(OSError):  # BlockingIOError: a wake-up is pending
                    real.send(b"0")

    def subscribe(self, topic: str, qos: int = 1, *, no_local: bool = False) -> None:
        """Subscribe now if connected, and again after every reconnect.

        no_local (MQTT 5): the broker does not send back what this client publishes itself
        (3.1.1 has no such option: those copies still come)."""
        with self._lock:
            if self._subs.get(topic) == qos and (topic in self._no_local) == no_local:
                return
            self._subs[topic] = qos
            if no_local:
                self._no_local.add(topic)
            else:
                self._no_local.discard(topic)
        if self.connected.is_set():
            self._track(self._client.subscribe(self._sub_args([(topic, qos)])))

    def _track(self, result: tuple[Any, int | None]) -> None:
        rc, mid = result
        if rc == mqtt.MQTT_ERR_SUCCESS and mid is not None:
            with self._suback:
                # The SUBACK may already have come in on paho's thread.
                if mid in self._early_acks:
                    self._early_acks.discard(mid)
                else:
                    self._pending_subs.add(mid)

    def wait_subscribed(self, timeout: float = 5.0) -> bool:
        """Block until every subscription sent so far is acknowledged by the broker."""
        with self._suback:
            return self._suback.wait_for(lambda: not self._pending_subs, timeout)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, *rest: Any) -> None:
        with self._suback:
            if mid in self._pending_subs:
                self._pending_subs.discard(mid)
            else:
                self._early_acks.add(mid)
            self._suback.notify_all()

    def _sub_args(self, subs: list[tuple[str, int]]) -> list[tuple[str, Any]]:
        if self.protocol == mqtt.MQTTv5:
            return [(t, SubscribeOptions(qos=q, noLocal=t in self._no_local)) for t, q in subs]
        return list(subs)

    # -- paho callbacks (paho's thread; must never raise) -----------------------------------
    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any
    ) -> None:
        try:
            if rc.is_failure:
                if (
                    rc.value in _UNSUPPORTED_PROTOCOL
                    and self.settings.protocol == "auto"
                    and (self.protocol == mqtt.MQTTv5)
                ):
                    log.warning("mqtt broker refuses MQTT 5, falling back to 3.1.1")
                    threading.Thread(
                        target=self._fallback, name="mqtt-fallback", daemon=True
                    ).start()
                    return
                self._set_state(f"refused reason={rc}")
                return
            sock = client.socket()
            if sock is not None:
                # Nagle + delayed ACKs stalls QoS 1 round trips ~40 ms (DESIGN.md, known traps).
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.connects += 1
            self.generation += 1
            with self._lock:
                subs = list(self._subs.items())
            with self._suback:
                # Mids of the old connection never get a SUBACK.
                self._pending_subs.clear()
                self._early_acks.clear()
            if subs:
                self._track(client.subscribe(self._sub_args(subs)))
            client.publish(self.settings.status_topic, "online", qos=1, retain=True)
            self.connected.set()
            self._set_state(f"connected session_present={int(bool(flags.session_present))}")
            for hook in self._on_connect_hooks:
                hook()
        except Exception:
            log.exception("mqtt on_connect failed")

    def _on_socket_open(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        # Some 3.1.1-only brokers (amqtt) never answer an MQTT 5 CONNECT: give them 3 s.
        if self.settings.protocol == "auto" and self.protocol == mqtt.MQTTv5 and not self.connects:
            timer = threading.Timer(3.0, self._connack_timeout, args=(client,))
            timer.daemon = True
            timer.start()

    def _connack_timeout(self, client: mqtt.Client) -> None:
        if client is self._client and not self.connects and self.protocol == mqtt.MQTTv5:
            log.warning("mqtt broker does not answer MQTT 5, falling back to 3.1.1")
            self._fallback()

    def _fallback(self) -> None:
        old = self._client
        old.disconnect()
        old.loop_stop()
        self._stop_driver(old, 2.0)
        self.protocol = mqtt.MQTTv311
        self._client = self._make_client()
        if not self._stopping:
            self._connect_async(self._client)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any
    ) -> None:
        try:
            self.connected.clear()
            if self._state.startswith("connected"):
                self.disconnects += 1
            if self._stopping:
                self._set_state("stopped")
            elif not self._state.startswith("refused"):
                # A refused connect is followed by a disconnect on every retry: one log line.
                self._set_state(f"disconnected reason={rc}")
        except Exception:
            log.exception("mqtt on_disconnect failed")

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        # paho's full path (QoS 2, MQTT 5 properties, a paho Client): the same hand-over.
        try:
            topic = msg.topic  # decodes: a topic that is not UTF-8 raises here
        except Exception:
            log.exception("mqtt message dropped topic=?")
            return
        self._deliver(topic, msg.payload, bool(msg.retain), bool(msg.dup), msg.mid, msg.qos)

    def _deliver(
        self, topic: str, payload: bytes, retain: bool, dup: bool, mid: int, qos: int
    ) -> None:
        # Also LinkClient's fast path for plain QoS 0/1 messages, without an MQTTMessage.
        try:
            m = Message(topic, payload, retain, dup, time.time(), mid, qos, self.generation)
            if not self.inbox.put(m, self._put_wait):
                self.ack([m])  # dropped and counted: redelivery would only be dropped again
        except Exception:
            log.exception("mqtt message dropped topic=%r", topic)

    def _set_state(self, state: str) -> None:
        # Each state change is logged once, not every retry.
        if state != self._state:
            self._state = state
            level = logging.INFO if state.startswith(("connected", "stopped")) else logging.WARNING
            log.log(level, "mqtt %s", state)

    @property
    def state(self) -> str:
        """The link's last state: connected, disconnected reason=..., refused, stopped."""
        return self._state
