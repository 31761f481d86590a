import paho.mqtt.client as mqtt
import paho.mqtt.subscribe as subscribe

from hub.broker import MosquittoBroker


def test_private_broker_delivers_retained_message(broker: MosquittoBroker) -> None:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    c.connect(broker.host, broker.port)
    c.loop_start()
    c.publish("t/x", "hello", qos=1, retain=True).wait_for_publish(5)
    c.loop_stop()
    msg = subscribe.simple("t/x", hostname=broker.host, port=broker.port, retained=True)
    assert msg.payload == b"hello"
