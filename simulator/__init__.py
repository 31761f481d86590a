"""The fake world: virtual sensors, mock GPIO, rendered camera scenes and scenarios."""
