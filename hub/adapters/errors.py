"""The adapters' one exception root."""


class AdapterError(Exception):
    """Base of adapter errors."""


class MalformedPayload(AdapterError, ValueError):
    """A payload the adapter cannot read (not JSON, wrong types, too large, binary)."""
