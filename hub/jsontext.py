"""JSON text for the hub's hot paths: the events stream, journal rows and rule traces.

`json.dumps(value, default=str)` builds a new JSONEncoder on every call; one shared encoder
gives the same text without that cost, once per event and per trace.
"""

from __future__ import annotations

import json

# Values JSON has no type for (a datetime, a Path) become their str(), as default=str does.
to_json = json.JSONEncoder(default=str).encode
