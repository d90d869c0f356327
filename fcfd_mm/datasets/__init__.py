"""Data: the demo dataset generator, and ``CheckedCocoDataset`` (registered in mmdet's ``DATASETS``) with
the checks of images and annotations it shares with ``tools/check_data.py``."""
from .checked_coco import CheckedCocoDataset
from .data_checks import AnnotationProblem, DataFaultError, annotation_problem, decode_settings, image_problem
from .demo_shapes import CLASSES as DEMO_CLASSES
from .demo_shapes import CLS_CLASSES as DEMO_CLS_CLASSES
from .demo_shapes import generate_demo_classification, generate_demo_coco

__all__ = ['AnnotationProblem', 'CheckedCocoDataset', 'DataFaultError', 'DEMO_CLASSES', 'DEMO_CLS_CLASSES',
           'annotation_problem', 'decode_settings', 'generate_demo_coco', 'generate_demo_classification',
           'image_problem']
