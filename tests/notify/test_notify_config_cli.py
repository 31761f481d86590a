"""Owners' config (secrets, masking, bad URLs) and `edgehub notify test OWNER`."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from notify_helpers import Receiver, jpeg_file

from hub.cli import main
from hub.config.owners import (
    OwnerConfigError,
    mask_url,
    owners_from_dict,
    resolve_channels,
)

TOKEN = "123456789:AAbbCCddEEffGGhhIIjj"


def test_placeholders_come_from_secrets_file_then_environment(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(f"TELEGRAM_TOKEN: '{TOKEN}'\n")
    owners = owners_from_dict(
        {"alice": {"notify": ["tgram://{TELEGRAM_TOKEN}/12345", "json://{HOOK_HOST}/hook"]}}
    )
    specs = resolve_channels(owners, secrets, env={"HOOK_HOST": "192.0.2.5:8080"})["alice"]
    assert [s.url for s in specs] == [f"tgram://{TOKEN}/12345", "json://192.0.2.5:8080/hook"]
    # What may be shown: the template, never the filled secret.
    assert [s.masked for s in specs] == [
        "tgram://{TELEGRAM_TOKEN}/12345",
        "json://{HOOK_HOST}/hook",
    ]
    assert TOKEN not in repr(specs)


def test_missing_secret_and_unparseable_url_name_owner_and_mask(tmp_path: Path) -> None:
    owners = owners_from_dict(
        {"alice": {"notify": ["tgram://{TELEGRAM_TOKEN}/12345"]}, "bob": {"notify": []}}
    )
    with pytest.raises(OwnerConfigError) as err:
        resolve_channels(owners, None, env={})
    assert "owners.alice.notify[0]" in str(err.value)
    assert "{TELEGRAM_TOKEN}" in str(err.value)
    # A token apprise rejects: the error names the owner, the secret stays hidden.
    with pytest.raises(OwnerConfigError) as err:
        resolve_channels(owners, None, env={"TELEGRAM_TOKEN": "not a token"})
    assert "owners.alice.notify[0]: apprise cannot parse" in str(err.value)
    assert "not a token" not in str(err.value)


def test_literal_secret_in_bad_url_is_masked_in_config_errors(tmp_path: Path) -> None:
    from hub.config.loader import ConfigError, load_config

    cfg = tmp_path / "hub.yaml"
    cfg.write_text("owners:\n  bob:\n    notify: ['nope://user:hunter22@host/Zx81secretTok']\n")
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    text = str(err.value)
    assert "owners.bob.notify" in text and "apprise cannot parse" in text
    assert "hunter22" not in text and "Zx81secretTok" not in text
    assert mask_url("tgram://" + TOKEN + "/1") == "tgram://12****89:AA****jj/1"


def test_cli_notify_test_prints_each_channels_answer(
    tmp_path: Path, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "secrets.yaml").write_text("HOOK_PATH: hook-s3cret99\n")
    dead = Receiver()  # a port nobody listens on
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(
        "hub: {id: home}\n"
        "owners:\n"
        "  alice:\n"
        f"    notify: ['json://127.0.0.1:{receiver.port}/{{HOOK_PATH}}', '{dead.url()}']\n"
        "secrets: secrets.yaml\n"
    )
    snap = jpeg_file(tmp_path / "snap.jpg")
    code = main(["notify", "test", "alice", "-c", str(cfg), "--attach", str(snap)])
    out = capsys.readouterr().out
    assert code == 1  # one channel failed
    lines = out.strip().splitlines()
    assert lines[0].startswith("OK   json://127.0.0.1:") and "{HOOK_PATH}" in lines[0]
    assert lines[1].startswith("FAIL") and "Connection error" in lines[1]
    assert "hook-s3cret99" not in out
    (post,) = receiver.wait_for(1)
    assert post["path"] == "/hook-s3cret99"
    assert post["json"]["title"] == "edgehub test (home)"
    assert base64.b64decode(post["json"]["attachments"][0]["base64"]) == snap.read_bytes()


def test_cli_unknown_owner(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text("owners:\n  alice:\n    notify: []\n")
    assert main(["notify", "test", "carol", "-c", str(cfg)]) == 2
    assert "no owner 'carol'" in capsys.readouterr().out


def test_cli_outbox_lists_counts_and_failed_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hub.notify.outbox import Channel, Message, Outbox

    data = tmp_path / "data"
    ob = Outbox(data / "edgehub.db")
    ch = Channel("c1", "json://192.0.2.5:8080/hook")
    ob.submit(Message(key="a", owner="bob", title="Door", message=""), [ch], now=1.0)
    ob.submit(Message(key="b", owner="bob", title="Window", message=""), [ch], now=2.0)
    first = ob.rows()[0]
    ob.mark_failed(first.id, 3.0, "Connection refused")
    ob.close()
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(f"hub: {{data_dir: {data}}}\n")
    assert main(["notify", "outbox", "-c", str(cfg)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "failed=1  pending=1"
    assert "failed" in out[1] and "'Door'" in out[1] and "Connection refused" in out[1]
    assert "pending" in out[2] and "'Window'" in out[2]


def test_filled_secret_is_never_logged_nor_stored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging
    import time

    from hub.config.owners import NotifyConfig
    from hub.notify.service import NotifyService
    from rules.effects import Notify

    secret = "s3cr3t-hook-path-4711"
    (tmp_path / "secrets.yaml").write_text(f"HOOK: {secret}\n")
    dead = Receiver()  # nobody listens: every attempt fails and is logged
    owners = owners_from_dict({"alice": {"notify": [f"json://127.0.0.1:{dead.port}/{{HOOK}}"]}})
    caplog.set_level(logging.DEBUG)
    svc = NotifyService(
        tmp_path / "edgehub.db",
        owners,
        NotifyConfig(backoff_initial=0.05, backoff_max=0.1, max_age=0.4),
        secrets_path=tmp_path / "secrets.yaml",
    )
    svc.start()
    try:
        svc.submit(Notify(owners=("alice",), title="hi", cause="e"))
        deadline = time.monotonic() + 10
        while svc.outbox.counts().get("failed") != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert svc.outbox.counts() == {"failed": 1}
    finally:
        svc.stop()
    assert "notify.retry" in caplog.text and secret not in caplog.text
    db_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("edgehub.db*"))
    assert secret.encode() not in db_bytes
