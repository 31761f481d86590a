"""The edgehub daemon: the only package that wires rules, devices and models together."""

__version__ = "0.1.0"
