"""Registries of FCFD's model-family adapters (MMEngine ``Registry``).

* ``HEAD_ADAPTERS``: how FCFD runs a family's head (what it reads, the student's own outputs,
  per-row weights, default losses); one class per head family (``heads/``).
* ``STAGE_CUTTERS``: where and how a backbone is cut at its stage boundaries; one class per
  backbone family (``stages/``).

A new family is one class registered with ``@HEAD_ADAPTERS.register_module()`` (or
``STAGE_CUTTERS``) in a module listed in the config's ``custom_imports``; no fcfd-mm file changes.
With no ``type`` given, FCFD picks the most recently registered class whose ``supports(model)`` is
true.
The ``locations`` make the built-in classes register when the registry is first queried.
"""
from mmengine.registry import Registry

HEAD_ADAPTERS = Registry('fcfd head adapter', scope='fcfd_mm', locations=['fcfd_mm.adapters.heads'])
STAGE_CUTTERS = Registry('fcfd stage cutter', scope='fcfd_mm', locations=['fcfd_mm.adapters.stages'])


def find_head_adapter(model):
    """The most recently registered head-adapter class whose ``supports(model)`` holds (so a
    family registered by a user's module wins over a built-in one it specialises), or ``None``."""
    HEAD_ADAPTERS.import_from_location()
    for cls in reversed(list(HEAD_ADAPTERS.module_dict.values())):
        if cls.supports(model):
            return cls
    return None
