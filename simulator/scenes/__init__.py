"""Synthetic camera scenes with ground truth: the classifier's training data and `sim:` cameras.

from simulator.scenes import make_scene, SceneSource
scene = make_scene("person_walks_left_to_right", 640, 360, fps=5, seed=1)
frame = scene.render(10)          # frame.image (BGR uint8), frame.truth
"""

from simulator.scenes.background import Background, render_background
from simulator.scenes.scenarios import SCENARIOS, UnknownScene, make_scene, random_scene
from simulator.scenes.scene import Camera, RenderedFrame, Scene, Truth
from simulator.scenes.source import SceneSource, source_for

__all__ = [
    "SCENARIOS",
    "Background",
    "Camera",
    "RenderedFrame",
    "Scene",
    "SceneSource",
    "Truth",
    "UnknownScene",
    "make_scene",
    "random_scene",
    "render_background",
    "source_for",
]
