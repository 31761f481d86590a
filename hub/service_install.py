"""Install and uninstall edgehub as a systemd service, on this machine or under a root directory.

Each step reports what it did (created, updated, unchanged, kept, removed, skipped), so running
the installer twice shows that nothing changed. Under a root other than "/" nothing outside the
root is touched: accounts are written into root/etc/passwd and root/etc/group, the unit is
enabled with `systemctl --root`, and the commands that need a running systemd are printed.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import yaml

log = logging.getLogger(__name__)

UNIT_NAME = "edgehub.service"
_SOURCE_TREE = Path(__file__).resolve().parents[1]
UNIT_TEMPLATE = _SOURCE_TREE / "systemd" / UNIT_NAME
EXAMPLE_CONFIG = _SOURCE_TREE / "examples" / "home" / "hub.yaml"
CONFIG_DIR = Path("/etc/edgehub")
STATE_DIR = Path("/var/lib/edgehub")
UNIT_DIR = Path("/etc/systemd/system")
WANTS_DIR = UNIT_DIR / "multi-user.target.wants"
DEVICE_GROUPS = ("gpio", "video")
# ProtectHome=yes hides these from the service: a venv there cannot be executed.
HIDDEN_PREFIXES = (Path("/home"), Path("/root"), Path("/run/user"))
NOLOGIN = "/usr/sbin/nologin"


_CHANGES = ("created", "updated", "removed", "enabled", "ran")


class ServiceInstallError(RuntimeError):
    """The service cannot be installed or removed as asked."""


@dataclass
class Step:
    """One thing the installer did or would do."""

    action: str
    target: str
    detail: str = ""

    def __str__(self) -> str:
        extra = f" ({self.detail})" if self.detail else ""
        return f"{self.action:<9} {self.target}{extra}"


@dataclass
class Report:
    """The steps of one install or uninstall run."""

    steps: list[Step] = field(default_factory=list)

    def add(self, action: str, target: str, detail: str = "") -> None:
        """Record a step."""
        self.steps.append(Step(action, target, detail))
        log.info("service %s %s %s", action, target, detail)

    @property
    def changed(self) -> bool:
        """True when any step changed the system."""
        return any(s.action in _CHANGES for s in self.steps)


def render_unit(template: str, *, exec_path: str, user: str, config: Path = CONFIG_DIR) -> str:
    """Return the unit text with ExecStart pointing at exec_path and User/Group set to user."""
    lines = []
    for line in template.splitlines():
        if line.startswith("ExecStart="):
            line = f"ExecStart={exec_path} run -c {config / 'hub.yaml'}"
        elif line.startswith("User="):
            line = f"User={user}"
        elif line.startswith("Group="):
            line = f"Group={user}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def parse_unit(text: str) -> dict[str, list[str]]:
    """Return a unit's settings as {"Section.Key": [values in order]} (keys may repeat)."""
    settings: dict[str, list[str]] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        settings.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return settings


def set_data_dir(config_text: str, data_dir: Path) -> str:
    """Return the YAML text with hub.data_dir set to data_dir, keeping comments and layout."""
    lines = config_text.splitlines()
    hub_at = next((i for i, ln in enumerate(lines) if ln.split("#")[0].strip() == "hub:"), None)
    if hub_at is None:
        if any(ln.startswith("hub:") for ln in lines):
            raise ServiceInstallError("hub: is written inline; set hub.data_dir in the config")
        lines = ["hub:", f"  data_dir: {data_dir}", *lines]
    else:
        end = hub_at + 1
        while end < len(lines) and (not lines[end].strip() or lines[end][:1] in (" ", "#")):
            end += 1
        block = lines[hub_at + 1 : end]
        indent = next((ln[: len(ln) - len(ln.lstrip())] for ln in block if ln.strip()), "  ")
        for i in range(hub_at + 1, end):
            if lines[i].startswith(f"{indent}data_dir:"):
                comment = lines[i].partition("#")[2]
                lines[i] = f"{indent}data_dir: {data_dir}" + (f"  #{comment}" if comment else "")
                break
        else:
            lines.insert(hub_at + 1, f"{indent}data_dir: {data_dir}")
    text = "\n".join(lines) + "\n"
    loaded = yaml.safe_load(text) or {}
    if str((loaded.get("hub") or {}).get("data_dir")) != str(data_dir):
        raise ServiceInstallError(f"could not set hub.data_dir to {data_dir}; set it in the config")
    return text


def default_exec_path() -> Path:
    """Return the `edgehub` script of the running environment."""
    beside = Path(sys.executable).with_name("edgehub")
    if beside.exists():
        return beside
    found = shutil.which("edgehub")
    if found is None:
        raise ServiceInstallError("cannot find the edgehub script; is edgehub installed?")
    return Path(found)


class Accounts(Protocol):
    """Where the service user and groups are created."""

    def ensure_group(self, name: str) -> tuple[int, bool]:
        """Return (gid, created)."""

    def ensure_user(self, name: str, home: Path) -> tuple[int, int, bool]:
        """Return (uid, gid, created) of a locked system user with a group of its own name."""

    def remove_user(self, name: str) -> bool:
        """Remove the user and its own group; return whether it existed."""


class FileAccounts:
    """Accounts written straight into root/etc/passwd and root/etc/group, for --root installs."""

    def __init__(self, root: Path, first_id: int = 999, last_id: int = 100) -> None:
        self.passwd = root / "etc" / "passwd"
        self.group = root / "etc" / "group"
        self.first_id, self.last_id = first_id, last_id

    @staticmethod
    def _rows(path: Path) -> list[list[str]]:
        if not path.exists():
            return []
        return [ln.split(":") for ln in path.read_text().splitlines() if ln.strip()]

    @staticmethod
    def _append(path: Path, row: list[str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text() if path.exists() else ""
        if text and not text.endswith("\n"):
            text += "\n"
        path.write_text(text + ":".join(row) + "\n")
        path.chmod(0o644)

    def _free_id(self) -> int:
        # Like useradd --system: the highest free id of the system range, same for uid and gid.
        used = {int(r[2]) for r in self._rows(self.passwd) + self._rows(self.group) if len(r) > 2}
        for candidate in range(self.first_id, self.last_id - 1, -1):
            if candidate not in used:
                return candidate
        raise ServiceInstallError("no free system id left")

    def ensure_group(self, name: str) -> tuple[int, bool]:
        """Return (gid, created)."""
        for row in self._rows(self.group):
            if row[0] == name:
                return int(row[2]), False
        gid = self._free_id()
        self._append(self.group, [name, "x", str(gid), ""])
        return gid, True

    def ensure_user(self, name: str, home: Path) -> tuple[int, int, bool]:
        """Return (uid, gid, created) of a locked system user with a group of its own name."""
        for row in self._rows(self.passwd):
            if row[0] == name:
                return int(row[2]), int(row[3]), False
        uid = self._free_id()
        gid, _ = self.ensure_group(name)
        self._append(self.passwd, [name, "x", str(uid), str(gid), "edgehub", str(home), NOLOGIN])
        return uid, gid, True

    def remove_user(self, name: str) -> bool:
        """Remove the user and its own group; return whether it existed."""
        found = False
        for path in (self.passwd, self.group):
            rows = self._rows(path)
            kept = [r for r in rows if r[0] != name]
            if len(kept) != len(rows):
                found = True
                path.write_text("".join(":".join(r) + "\n" for r in kept))
        return found


class SystemAccounts:
    """Accounts of this machine, through getent and the shadow tools."""

    def __init__(self, run: Callable[[list[str]], None]) -> None:
        self.run = run

    def ensure_group(self, name: str) -> tuple[int, bool]:
        """Return (gid, created)."""
        import grp

        try:
            return grp.getgrnam(name).gr_gid, False
        except KeyError:
            self.run(["groupadd", "--system", name])
            return grp.getgrnam(name).gr_gid, True

    def ensure_user(self, name: str, home: Path) -> tuple[int, int, bool]:
        """Return (uid, gid, created) of a locked system user with a group of its own name."""
        import pwd

        try:
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid, False
        except KeyError:
            home_opts = ["--home-dir", str(home), "--shell", NOLOGIN, "--comment", "edgehub"]
            self.run(["useradd", "--system", "--user-group", "--no-create-home", *home_opts, name])
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid, True

    def remove_user(self, name: str) -> bool:
        """Remove the user and its own group; return whether it existed."""
        import pwd

        try:
            pwd.getpwnam(name)
        except KeyError:
            return False
        self.run(["userdel", name])
        return True


def _run(cmd: list[str]) -> None:
    try:
        subprocess.run(cmd, check=True, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise ServiceInstallError(f"{cmd[0]} is not installed") from exc
    except subprocess.CalledProcessError as exc:
        raise ServiceInstallError(f"{' '.join(cmd)} failed: {exc.stderr.strip()}") from exc


class ServiceInstaller:
    """Puts the user, config, data directory and unit in place, and enables the service."""

    def __init__(
        self,
        root: Path = Path("/"),
        user: str = "edgehub",
        *,
        exec_path: Path | None = None,
        accounts: Accounts | None = None,
        run: Callable[[list[str]], None] = _run,
        template: Path = UNIT_TEMPLATE,
    ) -> None:
        self.root = Path(root)
        self.live = self.root.resolve() == Path("/")
        self.user = user
        self.exec_path = exec_path
        self.run = run
        self.accounts = accounts or (SystemAccounts(run) if self.live else FileAccounts(self.root))
        self.template = template
        # chown needs root; an unprivileged --root install leaves the files to the caller.
        self.can_chown = os.geteuid() == 0

    def path(self, absolute: Path) -> Path:
        """Return where an absolute system path lands under the install root."""
        return self.root / absolute.relative_to("/")

    def _systemctl(self, report: Report, *args: str) -> None:
        cmd = ["systemctl", *args] + ([] if args[0] == "daemon-reload" else [UNIT_NAME])
        if self.live:
            self.run(cmd)
            report.add("ran", " ".join(cmd))
        elif args[0] in ("enable", "disable") and shutil.which("systemctl"):
            # systemctl edits the wants/ symlinks of an offline tree without a running systemd.
            self.run(["systemctl", f"--root={self.root}", *cmd[1:]])
            report.add("enabled" if args[0] == "enable" else "removed", " ".join(cmd))
        else:
            report.add("skipped", " ".join(cmd), "run it on the target machine")

    def _own(self, path: Path, uid: int, gid: int, mode: int) -> None:
        path.chmod(mode)
        if self.can_chown:
            os.chown(path, uid, gid, follow_symlinks=False)

    def install(self, config_src: Path | None = None) -> Report:
        """Install and start the service; a second run changes nothing."""
        report = Report()
        exec_path = self.exec_path or default_exec_path()
        if any(exec_path.is_relative_to(p) for p in HIDDEN_PREFIXES):
            raise ServiceInstallError(
                f"{exec_path} is under a home directory, which the service cannot see "
                "(ProtectHome=yes); create the venv under /opt/edgehub instead"
            )
        if not self.template.exists():
            raise ServiceInstallError(f"unit template not found: {self.template}")

        for name in DEVICE_GROUPS:
            _, created = self.accounts.ensure_group(name)
            report.add("created" if created else "unchanged", f"group {name}")
        uid, gid, created = self.accounts.ensure_user(self.user, STATE_DIR)
        report.add("created" if created else "unchanged", f"user {self.user}", f"uid {uid}")

        self._install_config(report, config_src, gid)
        state = self.path(STATE_DIR)
        if state.is_dir():
            report.add("kept", str(STATE_DIR), "data")
        else:
            state.mkdir(parents=True)
            self._own(state, uid, gid, 0o700)
            report.add("created", str(STATE_DIR))

        unit_text = render_unit(self.template.read_text(), exec_path=str(exec_path), user=self.user)
        unit = self.path(UNIT_DIR / UNIT_NAME)
        unit_changed = not unit.exists() or unit.read_text() != unit_text
        if unit_changed:
            report.add("updated" if unit.exists() else "created", str(UNIT_DIR / UNIT_NAME))
            unit.parent.mkdir(parents=True, exist_ok=True)
            unit.write_text(unit_text)
            unit.chmod(0o644)
            self._systemctl(report, "daemon-reload")
        else:
            report.add("unchanged", str(UNIT_DIR / UNIT_NAME))

        enabled = self.path(WANTS_DIR / UNIT_NAME).is_symlink()
        if not enabled:
            self._systemctl(report, "enable")
        else:
            report.add("unchanged", f"{UNIT_NAME} enabled")
        self._start(report, unit_changed)
        return report

    def _start(self, report: Report, unit_changed: bool) -> None:
        if not self.live:
            if unit_changed:
                self._systemctl(report, "restart")
            return
        active = subprocess.run(["systemctl", "is-active", "--quiet", UNIT_NAME]).returncode == 0
        if not active or unit_changed:
            self._systemctl(report, "restart")
        else:
            report.add("unchanged", f"{UNIT_NAME} running")

    def _install_config(self, report: Report, config_src: Path | None, gid: int) -> None:
        conf_dir = self.path(CONFIG_DIR)
        if not conf_dir.is_dir():
            conf_dir.mkdir(parents=True)
            report.add("created", str(CONFIG_DIR))
        # Root owns the config and the hub only reads it: a compromised hub cannot rewrite rules.
        self._own(conf_dir, 0, gid, 0o750)
        dest = conf_dir / "hub.yaml"
        if dest.exists():
            report.add("kept", str(CONFIG_DIR / "hub.yaml"), "exists")
            return
        src = Path(config_src) if config_src else EXAMPLE_CONFIG
        if not src.is_file():
            raise ServiceInstallError(f"config not found: {src}; pass --config FILE")
        text = set_data_dir(src.read_text(), STATE_DIR)
        dest.write_text(text)
        self._own(dest, 0, gid, 0o640)
        hint = "; the example home: edit devices, pin_factory and mqtt" if not config_src else ""
        report.add("created", str(CONFIG_DIR / "hub.yaml"), f"from {src}{hint}")
        # Rule folders and secrets files named relative to the config travel with it.
        for key, value in (yaml.safe_load(text) or {}).items():
            if key == "hub" or not isinstance(value, str) or Path(value).is_absolute():
                continue
            beside = (src.parent / value).resolve()
            if not beside.exists() or not beside.is_relative_to(src.parent.resolve()):
                continue
            target = conf_dir / value
            if target.exists():
                report.add("kept", str(CONFIG_DIR / value))
                continue
            if beside.is_dir():
                shutil.copytree(beside, target)
                for p in [target, *target.rglob("*")]:
                    self._own(p, 0, gid, 0o750 if p.is_dir() else 0o640)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(beside, target)
                self._own(target, 0, gid, 0o640)
            report.add("created", str(CONFIG_DIR / value), f"{key} from {beside}")

    def uninstall(self, purge: bool = False) -> Report:
        """Stop, disable and remove the unit; with purge also config, data and the user."""
        report = Report()
        unit = self.path(UNIT_DIR / UNIT_NAME)
        if self.path(WANTS_DIR / UNIT_NAME).is_symlink() or (self.live and unit.exists()):
            self._systemctl(report, *(("disable", "--now") if self.live else ("disable",)))
        if unit.exists():
            unit.unlink()
            report.add("removed", str(UNIT_DIR / UNIT_NAME))
            self._systemctl(report, "daemon-reload")
        for absolute, what in ((CONFIG_DIR, "config"), (STATE_DIR, "data")):
            target = self.path(absolute)
            if not target.exists():
                continue
            if purge:
                shutil.rmtree(target)
                report.add("removed", str(absolute), what)
            else:
                report.add("kept", str(absolute), f"{what}; --purge removes it")
        if purge and self.accounts.remove_user(self.user):
            report.add("removed", f"user {self.user}")
        return report
