from .demo_shapes import CLASSES as DEMO_CLASSES
from .demo_shapes import CLS_CLASSES as DEMO_CLS_CLASSES
from .demo_shapes import generate_demo_classification, generate_demo_coco

__all__ = ['DEMO_CLASSES', 'DEMO_CLS_CLASSES', 'generate_demo_coco', 'generate_demo_classification']
