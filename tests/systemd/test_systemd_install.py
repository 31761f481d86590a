"""`install-service --root` and `uninstall-service --root` build and undo the expected tree."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from hub.cli import main
from hub.service_install import (
    EXAMPLE_CONFIG,
    ServiceInstaller,
    ServiceInstallError,
    parse_unit,
    set_data_dir,
)

PI_PASSWD = """root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
pi:x:1000:1000:,,,:/home/pi:/bin/bash
mosquitto:x:105:108::/var/lib/mosquitto:/usr/sbin/nologin
"""
PI_GROUP = """root:x:0:
video:x:44:pi
pi:x:1000:
mosquitto:x:108:
gpio:x:997:pi
"""
CONFIG = """# my home
hub:
  id: home            # topics namespace
  data_dir: ./data    # journal and clips
devices:
  hall_motion: {type: motion, topic: zigbee2mqtt/hall_motion, format: zigbee2mqtt}
rules: rules/
"""


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under root with its type, mode, owner, mtime and content or link target."""
    out: dict[str, tuple] = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        if p.is_symlink():
            body: object = os.readlink(p)
        elif p.is_file():
            body = p.read_bytes()
        else:
            body = None
        key = str(p.relative_to(root))
        out[key] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
                    st.st_mtime_ns, body)  # fmt: skip
    return out


def contents(snap: dict[str, tuple]) -> dict[str, tuple]:
    """The snapshot without mtimes."""
    return {k: v[:4] + v[5:] for k, v in snap.items()}


@pytest.fixture
def pi_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text(PI_PASSWD)
    (root / "etc" / "group").write_text(PI_GROUP)
    return root


@pytest.fixture
def config(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "rules").mkdir(parents=True)
    (src / "rules" / "lights.yaml").write_text("rules: []\n")
    (src / "hub.yaml").write_text(CONFIG)
    return src / "hub.yaml"


def cli(*args: str) -> int:
    """Run the edgehub command line in process."""
    return main(list(args))


def account(root: Path, file: str, name: str) -> list[str]:
    """Return the colon fields of name's line in root/etc/<file>."""
    for line in (root / "etc" / file).read_text().splitlines():
        if line.split(":")[0] == name:
            return line.split(":")
    raise AssertionError(f"{name} not in {file}")


def test_install_produces_the_expected_tree(
    pi_root: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("install-service", "--root", str(pi_root), "--config", str(config)) == 0
    out = capsys.readouterr().out
    assert "created   user edgehub" in out
    assert "skipped   systemctl restart edgehub.service" in out

    user = account(pi_root, "passwd", "edgehub")
    assert user[5:] == ["/var/lib/edgehub", "/usr/sbin/nologin"]
    uid, gid = int(user[2]), int(user[3])
    assert 100 <= uid < 1000 and account(pi_root, "group", "edgehub")[2] == str(gid)

    unit = pi_root / "etc/systemd/system/edgehub.service"
    settings = parse_unit(unit.read_text())
    exe = settings["Service.ExecStart"][0].split()[0]
    assert os.access(exe, os.X_OK) and exe.endswith("/bin/edgehub")
    assert settings["Service.User"] == ["edgehub"]
    if shutil.which("systemctl"):
        link = pi_root / "etc/systemd/system/multi-user.target.wants/edgehub.service"
        assert os.readlink(link) == "/etc/systemd/system/edgehub.service"

    conf = pi_root / "etc/edgehub/hub.yaml"
    assert yaml.safe_load(conf.read_text())["hub"]["data_dir"] == "/var/lib/edgehub"
    assert "# journal and clips" in conf.read_text()
    assert (pi_root / "etc/edgehub/rules/lights.yaml").read_text() == "rules: []\n"
    data = pi_root / "var/lib/edgehub"
    assert stat.S_IMODE(conf.stat().st_mode) == 0o640
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    if os.geteuid() == 0:
        assert (data.stat().st_uid, data.stat().st_gid) == (uid, gid)
        assert (conf.stat().st_uid, conf.stat().st_gid) == (0, gid)


def test_install_twice_changes_nothing_and_says_so(
    pi_root: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli("install-service", "--root", str(pi_root), "--config", str(config))
    first = snapshot(pi_root)
    capsys.readouterr()
    assert cli("install-service", "--root", str(pi_root), "--config", str(config)) == 0
    out = capsys.readouterr().out
    assert snapshot(pi_root) == first
    assert "nothing changed" in out
    assert "created" not in out


def test_an_existing_config_is_left_alone(pi_root: Path, config: Path) -> None:
    conf = pi_root / "etc/edgehub/hub.yaml"
    conf.parent.mkdir(parents=True)
    conf.write_text("hub: {id: mine, data_dir: /var/lib/edgehub}\n")
    ServiceInstaller(pi_root).install(config)
    assert conf.read_text() == "hub: {id: mine, data_dir: /var/lib/edgehub}\n"
    assert not (pi_root / "etc/edgehub/rules").exists()


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_the_installed_unit_verifies_clean(pi_root: Path, config: Path) -> None:
    ServiceInstaller(pi_root).install(config)
    unit = pi_root / "etc/systemd/system/edgehub.service"
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_uninstall_keeps_config_data_and_user(
    pi_root: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli("install-service", "--root", str(pi_root), "--config", str(config))
    (pi_root / "var/lib/edgehub/edgehub.db").write_bytes(b"journal")
    capsys.readouterr()
    assert cli("uninstall-service", "--root", str(pi_root)) == 0
    out = capsys.readouterr().out
    assert not (pi_root / "etc/systemd/system/edgehub.service").exists()
    assert not (pi_root / "etc/systemd/system/multi-user.target.wants/edgehub.service").exists()
    assert (pi_root / "var/lib/edgehub/edgehub.db").read_bytes() == b"journal"
    assert (pi_root / "etc/edgehub/hub.yaml").exists()
    assert account(pi_root, "passwd", "edgehub")
    assert "--purge removes it" in out
    before = snapshot(pi_root)
    assert cli("uninstall-service", "--root", str(pi_root)) == 0
    assert "nothing changed" in capsys.readouterr().out
    assert snapshot(pi_root) == before


def test_purge_restores_the_tree_as_it_was(pi_root: Path, config: Path) -> None:
    pristine = contents(snapshot(pi_root))
    cli("install-service", "--root", str(pi_root), "--config", str(config))
    (pi_root / "var/lib/edgehub/clips").mkdir()
    assert cli("uninstall-service", "--root", str(pi_root), "--purge") == 0
    after = contents(snapshot(pi_root))
    # Only the empty parent folders the install made are left behind.
    leftovers = {k for k in after if k not in pristine}
    assert all(after[k][0] == stat.S_IFDIR for k in leftovers), leftovers
    assert {k: after[k] for k in pristine} == pristine


def test_groups_missing_on_a_non_pi_are_created(pi_root: Path, config: Path) -> None:
    (pi_root / "etc/group").write_text("root:x:0:\nvideo:x:44:\n")
    ServiceInstaller(pi_root).install(config)
    assert account(pi_root, "group", "gpio")[2].isdigit()
    assert account(pi_root, "group", "video")[2] == "44"


def test_a_venv_in_a_home_directory_is_refused(pi_root: Path, config: Path) -> None:
    installer = ServiceInstaller(pi_root, exec_path=Path("/home/pi/venv/bin/edgehub"))
    with pytest.raises(ServiceInstallError, match="ProtectHome"):
        installer.install(config)
    assert not (pi_root / "etc/systemd/system/edgehub.service").exists()


def test_custom_user(pi_root: Path, config: Path) -> None:
    ServiceInstaller(pi_root, user="hubsvc").install(config)
    settings = parse_unit((pi_root / "etc/systemd/system/edgehub.service").read_text())
    assert settings["Service.User"] == ["hubsvc"] and settings["Service.Group"] == ["hubsvc"]
    assert account(pi_root, "passwd", "hubsvc")


@pytest.mark.skipif(not EXAMPLE_CONFIG.exists(), reason="examples/home/hub.yaml not written yet")
def test_default_config_is_the_example_home_and_passes_check(
    pi_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("install-service", "--root", str(pi_root)) == 0
    assert "the example home: edit" in capsys.readouterr().out
    installed = pi_root / "etc/edgehub/hub.yaml"
    assert yaml.safe_load(installed.read_text())["hub"]["data_dir"] == "/var/lib/edgehub"
    assert cli("check", "-c", str(installed)) == 0, capsys.readouterr().err


def test_set_data_dir_keeps_comments_inserts_and_refuses_inline() -> None:
    out = set_data_dir(CONFIG, Path("/var/lib/edgehub"))
    assert "  data_dir: /var/lib/edgehub  # journal and clips" in out
    assert "id: home            # topics namespace" in out
    out = set_data_dir("hub:\n    id: x\nrules: r/\n", Path("/d"))
    assert yaml.safe_load(out) == {"hub": {"id": "x", "data_dir": "/d"}, "rules": "r/"}
    assert yaml.safe_load(set_data_dir("devices: {}\n", Path("/d")))["hub"] == {"data_dir": "/d"}
    with pytest.raises(ServiceInstallError):
        set_data_dir("hub: {id: x}\n", Path("/d"))


def test_real_install_needs_root_privileges(capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: a real install would touch this machine")
    assert cli("install-service") == 1
    assert "must run as root" in capsys.readouterr().err
