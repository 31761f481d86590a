"""Hardware library: lights behind gpiozero, MQTT lights, cameras behind OpenCV. Knows nothing of the hub."""
