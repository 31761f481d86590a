"""Autonomy: device health, sensor anomalies, hub health and the supervisor that heals components.

The detectors (DeviceMonitor, AnomalyDetector, StorageWatch) are pure and take the time as an
argument; HealthComponent feeds them inside the hub and Supervisor restarts failed components.
"""

from hub.health.anomaly import Anomaly, AnomalyDetector, AnomalyPolicy
from hub.health.devices import DeviceMonitor, DevicePolicy
from hub.health.errors import ComponentGaveUp, HealthConfigError, HealthError
from hub.health.metrics import EventRate, HostProbe
from hub.health.storage import StorageWatch
from hub.health.supervisor import EXIT_FATAL, Supervisor

__all__ = [
    "EXIT_FATAL",
    "Anomaly",
    "AnomalyDetector",
    "AnomalyPolicy",
    "ComponentGaveUp",
    "DeviceMonitor",
    "DevicePolicy",
    "EventRate",
    "HealthConfigError",
    "HealthError",
    "HostProbe",
    "StorageWatch",
    "Supervisor",
]
