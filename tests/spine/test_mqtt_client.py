"""LinkClient's receive path: packets cut at any byte by TCP all arrive whole and in order."""

from __future__ import annotations

import random
import struct

import paho.mqtt.client as mqtt
import pytest

from hub.mqtt_client import BufferedSocket, LinkClient


class _Chunks:
    """A non-blocking socket that returns a byte stream in the given pieces."""

    def __init__(self, pieces: list[bytes]):
        self.pieces = pieces

    def recv(self, bufsize: int) -> bytes:
        if not self.pieces:
            raise BlockingIOError
        return self.pieces.pop(0)

    def close(self) -> None:
        """Nothing to close."""


def _publish(topic: str, mid: int, payload: bytes, v5: bool) -> bytes:
    t = topic.encode()
    body = struct.pack("!H", len(t)) + t + struct.pack("!H", mid) + (b"\0" if v5 else b"")
    body += payload
    n, head = len(body), bytearray([0x32])
    while True:
        byte, n = n & 0x7F, n >> 7
        head.append(byte | 0x80 if n else byte)
        if not n:
            break
    return bytes(head) + body


@pytest.mark.parametrize("protocol", [mqtt.MQTTv311, mqtt.MQTTv5])
def test_packets_split_anywhere_arrive_whole_and_in_order(protocol: int) -> None:
    rng = random.Random(7)
    v5 = protocol == mqtt.MQTTv5
    # Small readings and one of 200 kB (a 3-byte remaining length, many reads).
    payloads = [b'{"n": %d}' % i for i in range(300)]
    payloads[150] = b"x" * 200_000
    stream = b"".join(
        _publish("zigbee2mqtt/s", i % 65535 + 1, p, v5) for i, p in enumerate(payloads)
    )
    pieces, pos = [], 0
    while pos < len(stream):
        n = rng.choice([1, 2, 3, 7, 50, 1000, 70_000])
        pieces.append(stream[pos : pos + n])
        pos += n
    got: list[tuple[str, bytes, int]] = []
    client = LinkClient(mqtt.CallbackAPIVersion.VERSION2, protocol=protocol, manual_ack=True)
    client.fast_message = lambda topic, payload, retain, dup, mid, qos: got.append(
        (topic, payload, mid)
    )
    client._sock = BufferedSocket(_Chunks(pieces))
    for _ in range(100_000):
        if not client._sock._sock.pieces and not client._sock.pending():
            break
        assert client.loop_read() == mqtt.MQTT_ERR_SUCCESS
    client._sock = None
    assert [p for _, p, _ in got] == payloads
    assert {t for t, _, _ in got} == {"zigbee2mqtt/s"}
    assert [m for _, _, m in got] == [i % 65535 + 1 for i in range(300)]
