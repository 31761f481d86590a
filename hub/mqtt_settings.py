"""Where the hub's MQTT link connects and how it logs in: broker address, credentials, TLS."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt

if TYPE_CHECKING:
    from hub.config.models import MqttConfig


@dataclass(frozen=True)
class BrokerLogin:
    """Credentials and TLS for a broker, as hub.yaml's `mqtt:` section gives them."""

    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_certs: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    insecure: bool = False

    @classmethod
    def from_config(cls, m: MqttConfig | None) -> BrokerLogin:
        """Return the login of an `mqtt:` section (none for the embedded broker)."""
        if m is None:
            return cls()
        tls = m.tls if not isinstance(m.tls, bool) else None
        return cls(
            username=m.username,
            password=m.resolved_password(),
            tls=bool(m.tls),
            ca_certs=str(tls.ca_certs) if tls and tls.ca_certs else None,
            certfile=str(tls.certfile) if tls and tls.certfile else None,
            keyfile=str(tls.keyfile) if tls and tls.keyfile else None,
            insecure=bool(tls.insecure) if tls else False,
        )

    def apply(self, client: mqtt.Client) -> None:
        """Set the credentials and TLS on a paho client before it connects."""
        if self.username:
            client.username_pw_set(self.username, self.password)
        if self.tls:
            client.tls_set(
                ca_certs=self.ca_certs,
                certfile=self.certfile,
                keyfile=self.keyfile,
                cert_reqs=ssl.CERT_NONE if self.insecure else ssl.CERT_REQUIRED,
            )
            client.tls_insecure_set(self.insecure)


@dataclass
class LinkSettings:
    """How to reach the broker."""

    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = "edgehub-home"
    status_topic: str = "edgehub/home/status"
    login: BrokerLogin = field(default_factory=BrokerLogin)
    protocol: str = "auto"  # auto | 5 | 3.1.1
    keepalive: int = 30
    session_expiry: int = 86400
    min_backoff: int = 1
    max_backoff: int = 30
    extra: dict[str, Any] = field(default_factory=dict)
