"""Loading state dicts written before a submodule was renamed."""
from __future__ import annotations

from typing import Dict, MutableMapping


def rename_state_keys(state_dict: MutableMapping, prefix: str, renamed: Dict[str, str]) -> None:
    """Rename in place the keys ``<prefix><old>.<rest>`` of ``state_dict`` to ``<prefix><new>.<rest>``
    for every ``old -> new`` of ``renamed`` (submodule names). Called first in a module's
    ``_load_from_state_dict``, so that a checkpoint written before the rename loads strictly; keys
    under the new names are left as they are."""
    for key in [k for k in state_dict if k.startswith(prefix)]:
        name, dot, rest = key[len(prefix):].partition('.')
        if dot and name in renamed:
            state_dict[f'{prefix}{renamed[name]}.{rest}'] = state_dict.pop(key)
