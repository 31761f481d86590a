"""Adapters on the real payloads of /work/shared/PAYLOADS.md, and the broken ones devices send."""

from __future__ import annotations

import os

import pytest

from hub.adapters import (
    JsonAdapter,
    MalformedPayload,
    RawAdapter,
    ShellyAdapter,
    TasmotaAdapter,
    Zigbee2MqttAdapter,
)


def z2m(payload: str | bytes) -> dict | None:
    r = Zigbee2MqttAdapter("zigbee2mqtt/x").decode("zigbee2mqtt/x", _b(payload))
    return None if r is None else r.attrs


def _b(p: str | bytes) -> bytes:
    return p.encode() if isinstance(p, str) else p


def test_z2m_motion_sample() -> None:
    attrs = z2m(
        '{"occupancy":true,"illuminance":28,"illuminance_lux":28,"battery":100,'
        '"voltage":3005,"linkquality":120}'
    )
    assert attrs is not None
    assert attrs["occupancy"] is True and attrs["illuminance"] == 28 and attrs["battery"] == 100


def test_z2m_contact_true_means_closed() -> None:
    assert z2m('{"contact":true,"battery":91}') == {"contact": True, "battery": 91}
    assert z2m('{"contact":false}') == {"contact": False}


def test_z2m_climate_sample() -> None:
    attrs = z2m('{"temperature":27.34,"humidity":44.72,"pressure":1012.3,"battery":87}')
    assert attrs == {"temperature": 27.34, "humidity": 44.72, "pressure": 1012.3, "battery": 87}


def test_z2m_button_and_the_empty_action_after_it() -> None:
    assert z2m('{"action":"single"}') == {"action": "single"}
    assert z2m('{"action":"hold"}') == {"action": "hold"}
    assert z2m('{"action":""}') is None


def test_z2m_light_sample() -> None:
    attrs = z2m('{"state":"ON","brightness":215,"color_temp":325,"color_mode":"color_temp"}')
    assert attrs == {
        "state": "ON",
        "brightness": 215,
        "color_temp": 325,
        "color_mode": "color_temp",
    }


def test_z2m_strings_for_numbers_nulls_and_unknown_keys() -> None:
    assert z2m('{"temperature":"21.5","humidity":null,"new_fw_key":7}') == {
        "temperature": 21.5,
        "new_fw_key": 7,
    }


def test_z2m_wrong_type_drops_the_attribute_and_reports_it() -> None:
    r = Zigbee2MqttAdapter("z/x").decode("z/x", b'{"occupancy":"maybe","battery":50}')
    assert r is not None
    assert r.attrs == {"battery": 50}
    assert "occupancy" in r.problems[0]


@pytest.mark.parametrize(
    "payload",
    [b"21.5", b"ON", b'{"occupancy":tr', b"\xff\xfe\x00\x81garbage", b'"text"', b"[1,2]"],
    ids=["bare-number", "bare-ON", "truncated", "binary", "json-string", "json-list"],
)
def test_z2m_broken_payloads_raise_malformed(payload: bytes) -> None:
    with pytest.raises(MalformedPayload):
        z2m(payload)


def test_very_large_payload_is_refused_without_parsing() -> None:
    with pytest.raises(MalformedPayload, match="larger"):
        z2m(os.urandom(1024 * 1024))


def test_empty_payload_is_a_cleared_retained_message() -> None:
    assert z2m(b"") is None


def test_tasmota_sensor_samples() -> None:
    a = TasmotaAdapter("tele/garden/SENSOR")
    assert a.topics() == ["tele/garden/SENSOR"]
    r = a.decode(
        "tele/garden/SENSOR",
        b'{"Time":"2026-11-27T10:00:00","DS18B20":{"Id":"0316A2794A1C","Temperature":20.6},'
        b'"TempUnit":"C"}',
    )
    assert r is not None and r.attrs == {"temperature": 20.6}
    r = a.decode(
        "tele/garden/SENSOR",
        b'{"Time":"x","AM2301":{"Temperature":21.1,"Humidity":48.2,"DewPoint":9.8},'
        b'"BH1750":{"Illuminance":312},"Switch1":{"Action":"ON"},"TempUnit":"C"}',
    )
    assert r is not None
    assert r.attrs == {
        "temperature": 21.1,
        "humidity": 48.2,
        "dew_point": 9.8,
        "illuminance": 312,
        "switch1": "ON",
    }
    r = a.decode("tele/garden/SENSOR", b'{"Switch1":"OFF"}')
    assert r is not None and r.attrs == {"switch1": "OFF"}


def test_tasmota_fahrenheit_is_converted() -> None:
    r = TasmotaAdapter("t").decode(
        "tele/t/SENSOR", b'{"DS18B20":{"Temperature":68},"TempUnit":"F"}'
    )
    assert r is not None and r.attrs == {"temperature": 20.0}


def test_tasmota_power_result_pir_state_and_lwt() -> None:
    a = TasmotaAdapter("plug")
    assert a.topics() == ["tele/plug/+", "stat/plug/+"]
    assert a.decode("stat/plug/RESULT", b'{"POWER":"ON"}').attrs == {"state": "ON"}  # type: ignore[union-attr]
    r = a.decode("stat/plug/RESULT", b'{"POWER":"ON","Dimmer":40}')
    assert r is not None and r.attrs == {"state": "ON", "brightness": 102}
    assert a.decode("stat/plug/POWER", b"ON").attrs == {"state": "ON"}  # type: ignore[union-attr]
    assert a.decode("stat/plug/POWER2", b"OFF").attrs == {"state2": "OFF"}  # type: ignore[union-attr]
    assert a.decode("stat/plug/PIR1", b"ON").attrs == {"occupancy": True}  # type: ignore[union-attr]
    r = a.decode(
        "tele/plug/STATE", b'{"Time":"x","Uptime":"0T01:02:03","POWER":"ON","Wifi":{"RSSI":76}}'
    )
    assert r is not None and r.attrs == {"state": "ON"}
    assert a.decode("tele/plug/LWT", b"Online") is None
    with pytest.raises(MalformedPayload):
        a.decode("stat/plug/POWER", b"\x00\xff")
    with pytest.raises(MalformedPayload):
        a.decode("stat/plug/POWER", b"MAYBE")


def test_shelly_gen1_samples() -> None:
    a = ShellyAdapter("shellies/shellydw2-ABC123")
    assert a.topics() == ["shellies/shellydw2-ABC123/#"]
    t = "shellies/shellydw2-ABC123/"
    assert a.decode(t + "relay/0", b"on").attrs == {"state": "ON"}  # type: ignore[union-attr]
    assert a.decode(t + "sensor/state", b"open").attrs == {"contact": False}  # type: ignore[union-attr]
    assert a.decode(t + "sensor/state", b"close").attrs == {"contact": True}  # type: ignore[union-attr]
    assert a.decode(t + "sensor/lux", b"120").attrs == {"illuminance": 120}  # type: ignore[union-attr]
    assert a.decode(t + "sensor/battery", b"88").attrs == {"battery": 88}  # type: ignore[union-attr]
    assert a.decode(t + "online", b"true") is None
    assert a.decode(t + "relay/0/command", b"on") is None
    r = a.decode(
        t + "status",
        b'{"motion":true,"timestamp":1700000000,"active":true,"vibration":false,"lux":120,"bat":88}',
    )
    assert r is not None
    assert r.attrs == {"occupancy": True, "illuminance": 120, "battery": 88, "vibration": False}


def test_shelly_gen2_samples() -> None:
    a = ShellyAdapter("shellyplus1-a8032ab12345")
    t = "shellyplus1-a8032ab12345/"
    r = a.decode(
        t + "status/switch:0",
        b'{"id":0,"source":"WS_in","output":true,"apower":0.0,"temperature":{"tC":41.2}}',
    )
    assert r is not None and r.attrs == {"state": "ON", "power": 0.0, "device_temperature": 41.2}
    r = a.decode(
        t + "events/rpc",
        b'{"src":"x","dst":"x/events","method":"NotifyStatus",'
        b'"params":{"ts":1700000000.1,"switch:0":{"id":0,"output":false}}}',
    )
    assert r is not None and r.attrs == {"state": "OFF"}
    assert a.decode(t + "status/temperature:0", b'{"id":0,"tC":21.5}').attrs == {
        "temperature": 21.5
    }  # type: ignore[union-attr]
    assert a.decode(t + "status/humidity:0", b'{"id":0,"rh":55}').attrs == {"humidity": 55}  # type: ignore[union-attr]
    r = a.decode(t + "status/devicepower:0", b'{"id":0,"battery":{"V":5.9,"percent":77}}')
    assert r is not None and r.attrs == {"battery": 77}
    with pytest.raises(MalformedPayload):
        a.decode(t + "events/rpc", b'{"method":"NotifyStatus",')


def test_plain_json_with_field_map() -> None:
    a = JsonAdapter("home/weather", {"temperature": "main.temp", "humidity": "main.hum"})
    r = a.decode("home/weather", b'{"main":{"temp":"12.5","hum":80},"wind":3}')
    assert r is not None and r.attrs == {"temperature": 12.5, "humidity": 80}
    r = JsonAdapter("x").decode("x", b'{"co2":612,"mode":"eco"}')
    assert r is not None and r.attrs == {"co2": 612, "mode": "eco"}


def test_raw_values() -> None:
    assert RawAdapter("t", "temperature").decode("t", b" 21.5\n").attrs == {"temperature": 21.5}  # type: ignore[union-attr]
    assert RawAdapter("t", "occupancy").decode("t", b"ON").attrs == {"occupancy": True}  # type: ignore[union-attr]
    assert RawAdapter("t", "contact").decode("t", b"closed").attrs == {"contact": True}  # type: ignore[union-attr]
    assert RawAdapter("t", "action").decode("t", b"double").attrs == {"action": "double"}  # type: ignore[union-attr]
    assert RawAdapter("t", "value").decode("t", b"hello").attrs == {"value": "hello"}  # type: ignore[union-attr]
    with pytest.raises(MalformedPayload):
        RawAdapter("t", "temperature").decode("t", b"warm")
    with pytest.raises(MalformedPayload):
        RawAdapter("t", "occupancy").decode("t", b"\x89PNG\x00\xff")
