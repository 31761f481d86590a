"""Hardware library: gpiozero and MQTT lights, cameras behind OpenCV. Knows nothing of the hub."""
