"""Several hubs, one home: other hubs' devices as `<hub>/<device>` over bridged brokers."""

from hub.remote.commands import CommandWindow, Outbox, Pending, command_payload
from hub.remote.component import RemoteComponent
from hub.remote.errors import RemoteError
from hub.remote.peers import Peer, Peers

__all__ = [
    "CommandWindow",
    "Outbox",
    "Peer",
    "Peers",
    "Pending",
    "RemoteComponent",
    "RemoteError",
    "command_payload",
]
