"""The ML library: the shipped ONNX motion classifier, its runtime wrapper and training."""
