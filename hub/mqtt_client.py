"""paho's Client with a cheaper receive path for the hub's link (hub/mqtt.py).

paho reads every packet with 3+ `recv` calls (command byte, each length byte, body), runs
one select() and loop_misc() per packet, and builds an MQTTMessage and an MQTT 5
Properties object per PUBLISH: its network thread cost the hub more CPU per event than the
asyncio loop did (bench/RESULTS.md, "Spine: ingest"). Here:

- a plain TCP socket is wrapped so one `recv` fills a buffer that serves paho's small
  reads; `pending()` reports what is buffered, which paho's loop already checks (for SSL
  sockets) before it blocks in select(), so buffered packets are never stranded;
- loop_read() reads every packet already received, not one per select();
- a QoS 0/1 PUBLISH without properties goes straight to `fast_message`, skipping
  MQTTMessage, Properties and the topic matcher, and a plain PUBACK skips building a
  ReasonCode and Properties. Anything else takes paho's own path;
- queued packets are written with one `send` per pass, not one each;
- write_now() lets the thread that queued packets write them itself (under a lock shared
  with paho's own writes), instead of waking the network thread to do it.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode, MQTTProtocolVersion, _ConnectionState
from paho.mqtt.exception import MalformedPacket
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

__all__ = ["BufferedSocket", "FastMessage", "LinkClient"]

# topic, payload, retain, dup, mid, qos
FastMessage = Callable[[str, bytes, bool, bool, int, int], None]

_RECV_SIZE = 65536
_MAX_PACKETS_PER_READ = 1000  # then paho writes, runs its keepalive and selects again
_U16 = struct.Struct("!H")
_SEND_SIZE = 65536  # bytes joined into one send
_PUBLISH, _DISCONNECT = 0x30, 0xE0
# What paho decodes a 2-byte PUBACK to (success, no properties), shared: nobody mutates it.
_PUBACK_OK = ReasonCode(PacketTypes.PUBACK)
_PUBACK_PROPS = Properties(PacketTypes.PUBACK)


def _in_packet(command: int, body: bytes | bytearray) -> dict[str, Any]:
    """paho's record of the packet being read: a whole one (command set), or none (0)."""
    return {
        "command": command,
        "have_remaining": 1 if command else 0,
        "remaining_count": [],
        "remaining_mult": 1,
        "remaining_length": len(body),
        "packet": body,
        "to_process": 0,
        "pos": 0,
    }


class BufferedSocket:
    """A non-blocking socket whose small reads are served from one large `recv`."""

    __slots__ = ("_buf", "_pos", "_sock")

    def __init__(self, sock: Any):
        self._sock = sock
        self._buf = b""
        self._pos = 0

    def recv(self, bufsize: int) -> bytes:
        """Return up to bufsize buffered bytes; refill with one `recv` when empty."""
        pos = self._pos
        buf = self._buf
        if pos >= len(buf):
            # BlockingIOError and OSError propagate to paho as from a plain socket.
            buf = self._sock.recv(max(bufsize, _RECV_SIZE))
            if not buf:
                return buf
            self._buf = buf
            pos = 0
        end = pos + bufsize
        self._pos = min(end, len(buf))
        if pos == 0 and end >= len(buf):
            return buf
        return buf[pos:end]

    def fill(self) -> bool:
        """Append one `recv` to what is buffered; False at end of stream.

        BlockingIOError and OSError propagate as from the socket itself."""
        data = self._sock.recv(_RECV_SIZE)
        if not data:
            return False
        rest = self._buf[self._pos :] if self._pos < len(self._buf) else b""
        self._buf = rest + data if rest else data
        self._pos = 0
        return True

    def take_packet(self) -> tuple[int, bytes] | None:
        """Return (first byte, body) of a whole packet already buffered, else None."""
        buf, pos = self._buf, self._pos
        end = len(buf)
        i = pos + 1
        length = 0
        shift = 0
        while True:  # MQTT's variable-length "remaining length", at most 4 bytes
            if i >= end or shift > 21:
                return None  # incomplete (or malformed: paho's own read reports it)
            byte = buf[i]
            length |= (byte & 0x7F) << shift
            i += 1
            if not byte & 0x80:
                break
            shift += 7
        if i + length > end:
            return None
        self._pos = i + length
        return buf[pos], buf[i : i + length]

    def pending(self) -> int:
        """Bytes received but not yet read: paho skips select()'s wait while there are."""
        return len(self._buf) - self._pos

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class LinkClient(mqtt.Client):
    """paho's Client with buffered reads and a direct path for plain QoS 0/1 messages."""

    # Set by the owner: receives plain QoS 0/1 messages instead of on_message.
    fast_message: FastMessage | None = None
    # Set by hub/mqtt_loop.py's LoopDriver: it watches the socket instead of paho's thread.
    io: Any = None
    # Threads inside MqttLink.coalesced(): they write what they queued when they leave.
    write_holds = 0

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # paho's _packet_write is not safe from two threads at once (partial writes).
        self._write_lock = threading.Lock()
        self._qos0_heads: dict[tuple[str, bool], tuple[int, bytes]] = {}

    def publish_qos0(self, topic: str, payload: bytes, retain: bool, info: Any) -> MQTTErrorCode:
        """Queue a QoS 0 PUBLISH built here: paho's _send_publish re-encodes the topic and
        packs the header field by field for every event of the events stream."""
        if self._sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN  # as paho: QoS 0 is not kept for later
        key = (topic, retain)
        head = self._qos0_heads.get(key)
        if head is None:
            raw = topic.encode()
            props = b"\x00" if self._protocol == MQTTProtocolVersion.MQTTv5 else b""
            head = self._qos0_heads[key] = (0x30 | retain, _U16.pack(len(raw)) + raw + props)
            if len(self._qos0_heads) > 1000:  # many distinct topics: do not grow forever
                self._qos0_heads.clear()
        command, var = head
        n = len(var) + len(payload)
        packet = bytearray((command,))
        while True:  # MQTT's variable-length "remaining length"
            byte, n = n & 0x7F, n >> 7
            packet.append(byte | 0x80 if n else byte)
            if not n:
                break
        packet += var
        packet += payload
        return self._packet_queue(_PUBLISH, packet, 0, 0, info)

    def loop_write(self) -> MQTTErrorCode:
        """paho's loop_write, serialised with write_now()."""
        with self._write_lock:
            return super().loop_write()

    def write_now(self) -> bool:
        """Write the queued packets from this thread; False: the network thread must finish.

        Waking paho's thread to send what another thread queued cost a wake-up, a select()
        and a GIL hand-off per batch, and delayed every state publish and PUBACK by them.
        """
        if self._state != _ConnectionState.MQTT_CS_CONNECTED:
            return False  # connecting, or a DISCONNECT queued: paho's thread handles those
        with self._write_lock:
            if self._sock is None:
                return False
            # Errors (a lost connection) are left for the network thread to find and handle.
            rc = self._packet_write()
        return rc == MQTTErrorCode.MQTT_ERR_SUCCESS and not self._out_packet

    def _create_socket(self) -> Any:
        sock = super()._create_socket()
        # SSL sockets buffer already (and have pending()); websockets frame their own.
        if self._ssl or self._transport == "websockets":
            return sock
        return BufferedSocket(sock)

    def loop_read(self, max_packets: int = 0) -> MQTTErrorCode:
        """Read every packet already received (up to max_packets), not one per select()."""
        if self._sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        for _ in range(max_packets if max_packets > 0 else _MAX_PACKETS_PER_READ):
            sock = self._sock
            if sock is None:
                return MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = self._packet_read()
            if rc > 0:
                return self._loop_rc_handle(rc)
            if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                break
            if not isinstance(sock, BufferedSocket) or not sock.pending():
                # One more read would be a syscall that most likely finds nothing.
                break
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _packet_write(self) -> MQTTErrorCode:
        # paho sends each packet with its own syscall (and a GIL release): a batch of 500
        # events meant 500 event publishes and 500 PUBACKs. Whole packets at the front are
        # joined into one send; partial writes and DISCONNECT take paho's own path.
        out = self._out_packet
        batch: list[Any] = []
        size = 0
        while out and size < _SEND_SIZE:
            p = out[0]
            cmd = p["command"] & 0xF0
            if p["pos"] or cmd == _DISCONNECT or (cmd == _PUBLISH and self.on_publish):
                break
            batch.append(out.popleft())
            size += p["to_process"]
        if len(batch) < 2:
            out.extendleft(reversed(batch))
            return super()._packet_write()
        try:
            sent = self._sock_send(b"".join([p["packet"] for p in batch]))
        except (AttributeError, ValueError):
            out.extendleft(reversed(batch))
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        except BlockingIOError:
            out.extendleft(reversed(batch))
            return MQTTErrorCode.MQTT_ERR_AGAIN
        except OSError as err:
            out.extendleft(reversed(batch))
            self._easy_log(mqtt.MQTT_LOG_ERR, "failed to send on socket: %s", err)
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        for i, p in enumerate(batch):
            n = p["to_process"]
            if sent < n:  # a partial write: the rest goes back to the front, in order
                p["pos"] += sent
                p["to_process"] -= sent
                out.extendleft(reversed(batch[i:]))
                return super()._packet_write()
            sent -= n
            p["pos"] += n
            p["to_process"] = 0
            if (p["command"] & 0xF0) == _PUBLISH and p["qos"] == 0 and p["info"] is not None:
                p["info"]._set_as_published()
        if out:
            return self._packet_write()
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    # -- paho's socket callbacks, routed to the LoopDriver when there is one ---------------
    def _call_socket_open(self, sock: Any) -> None:
        if self.io is not None:
            self.io.opened(sock)
        super()._call_socket_open(sock)

    def _call_socket_close(self, sock: Any) -> None:
        if self.io is not None:
            self.io.closed(sock)
        super()._call_socket_close(sock)

    def _call_socket_register_write(self) -> None:
        if self.io is None:
            super()._call_socket_register_write()
        elif self._sock is not None and not self.write_holds:
            # Not paho's _registered_write flag: set and cleared from different threads it
            # could strand a packet; the driver coalesces the calls itself.
            self.io.want_write()

    def _call_socket_unregister_write(self, sock: Any = None) -> None:
        if self.io is None:
            super()._call_socket_unregister_write(sock)

    def _packet_read(self) -> MQTTErrorCode:
        # paho reads a packet a byte or two at a time and updates a dict per byte; a whole
        # packet already in our buffer is cut out in one go. Anything else (a packet still
        # arriving, a partly read one, TLS): paho's own read.
        sock = self._sock
        if type(sock) is not BufferedSocket or self._in_packet["command"]:
            return super()._packet_read()
        whole = sock.take_packet()
        if whole is None:
            # Usually an empty buffer: one paced message is one `recv`, cut out whole too.
            try:
                if not sock.fill():
                    return MQTTErrorCode.MQTT_ERR_CONN_LOST
            except BlockingIOError:
                return MQTTErrorCode.MQTT_ERR_AGAIN
            except OSError as err:
                self._easy_log(mqtt.MQTT_LOG_ERR, "failed to receive on socket: %s", err)
                return MQTTErrorCode.MQTT_ERR_CONN_LOST
            whole = sock.take_packet()
            if whole is None:  # a packet still arriving: paho's read keeps its progress
                return super()._packet_read()
        command, body = whole
        self._in_packet = _in_packet(command, body)
        try:
            rc = self._packet_handle()
        except MalformedPacket as exc:
            self._easy_log(mqtt.MQTT_LOG_DEBUG, "Received malformed packet: %s", exc)
            rc = MQTTErrorCode.MQTT_ERR_PROTOCOL
        self._in_packet = _in_packet(0, bytearray(b""))  # as paho leaves it after a packet
        with self._msgtime_mutex:
            self._last_bytes_received = mqtt.time_func()
        return rc

    def _handle_pubackcomp(self, cmd: Any) -> MQTTErrorCode:
        # A plain PUBACK (2 bytes: success, no properties) for each retained state publish:
        # paho decodes it into a fresh ReasonCode and Properties each time.
        packet = self._in_packet["packet"]
        if cmd != "PUBACK" or len(packet) != 2:
            return super()._handle_pubackcomp(cmd)
        (mid,) = _U16.unpack(packet)
        with self._out_message_mutex:
            if mid in self._out_messages:
                return self._do_on_publish(mid, _PUBACK_OK, _PUBACK_PROPS)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _handle_publish(self) -> MQTTErrorCode:
        handler = self.fast_message
        header = self._in_packet["command"]
        qos = (header & 0x06) >> 1
        if handler is None or qos == 2 or self._on_message_filtered._root._children:
            return super()._handle_publish()
        packet = self._in_packet["packet"]
        try:
            (tlen,) = _U16.unpack_from(packet, 0)
            pos = 2 + tlen
            if pos > len(packet):
                raise MalformedPacket("topic runs past the packet")
            raw_topic = packet[2:pos]
            mid = 0
            if qos:
                (mid,) = _U16.unpack_from(packet, pos)
                pos += 2
            if self._protocol == MQTTProtocolVersion.MQTTv5:
                if packet[pos] != 0:
                    # Properties (user properties, expiry, an alias...): paho's full path.
                    return super()._handle_publish()
                pos += 1
        except (struct.error, IndexError) as exc:
            raise MalformedPacket(str(exc)) from exc
        if not raw_topic and self._protocol != MQTTProtocolVersion.MQTTv5:
            raise MalformedPacket("topic can't be empty in MQTTv3")
        try:
            topic = raw_topic.decode("utf-8")
        except UnicodeDecodeError:
            return super()._handle_publish()
        # The handler must not raise (hub/mqtt.py catches everything); a bug there must
        # still not take down the network thread, so paho's own guard applies too.
        try:
            handler(topic, bytes(packet[pos:]), bool(header & 0x01), bool(header & 0x08), mid, qos)
        except Exception as err:
            self._easy_log(mqtt.MQTT_LOG_ERR, "Caught exception in fast_message: %s", err)
            if not self.suppress_exceptions:
                raise
        if qos == 1 and not self._manual_ack:
            return self._send_puback(mid)
        return MQTTErrorCode.MQTT_ERR_SUCCESS
