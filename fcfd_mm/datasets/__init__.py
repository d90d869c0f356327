from .demo_shapes import CLASSES as DEMO_CLASSES
from .demo_shapes import generate_demo_coco

__all__ = ['DEMO_CLASSES', 'generate_demo_coco']
