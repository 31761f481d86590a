"""The ML library: the shipped ONNX motion classifier, its runtime wrapper and training."""

from models.classifier import MotionClassifier
from models.confirm import ConfirmConfig, Confirmer
from models.errors import ModelError
from models.pipeline import DetectionPipeline, build_pipeline

__all__ = [
    "ConfirmConfig",
    "Confirmer",
    "DetectionPipeline",
    "ModelError",
    "MotionClassifier",
    "build_pipeline",
]
