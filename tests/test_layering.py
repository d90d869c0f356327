"""The package's layering: imports only point down, and importing fcfd_mm changes nothing in other libraries.

Layers, top to bottom (a module may import from its own part and from the parts below it):

    engine/                                        hooks, validation loop, optimizer wrappers, bridge probe
    algorithms/                                    FCFDDistill, the FCFD maths, hybrids, ghost BN statistics
    adapters/                                      one registered class per model family
    models/ losses/ connectors/ datasets/ export   building blocks
    utils/ compat version                          shared helpers

The test reads every module's imports (``import`` / ``from`` statements anywhere in the file, function
bodies included) with ``ast``; it imports nothing.
"""
import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / 'fcfd_mm'
RANK = {'engine': 4, 'algorithms': 3, 'adapters': 2, 'models': 1, 'losses': 1, 'connectors': 1, 'datasets': 1,
        'export': 1, 'utils': 0, 'compat': 0, 'version': 0}


def _part(module: str) -> str:
    """``fcfd_mm.algorithms.hybrid`` -> ``algorithms``; the package itself -> ``''``."""
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else ''


def _imports(path: Path):
    """``(importing module, imported fcfd_mm module)`` for every import of ``path``."""
    rel = path.relative_to(PACKAGE.parent).with_suffix('')
    module = '.'.join(rel.parts[:-1] if rel.name == '__init__' else rel.parts)
    package = module if path.name == '__init__.py' else module.rsplit('.', 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')
                base = base[:len(base) - node.level + 1]
                prefix = '.'.join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ''
            # ``from . import engine`` names submodules: count each imported name
            targets = [f'{prefix}.{alias.name}' for alias in node.names] if not node.module else [prefix]
        else:
            continue
        for target in targets:
            if target == 'fcfd_mm' or target.startswith('fcfd_mm.'):
                yield module, target


def _edges():
    return [(src, dst) for path in sorted(PACKAGE.rglob('*.py')) for src, dst in _imports(path)]


def test_every_part_has_a_layer():
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == '.py' and p.name != '__init__.py') or (p / '__init__.py').is_file()}
    assert parts == set(RANK), 'add the new part of fcfd_mm to RANK (and to the docstring)'


def test_imports_only_point_down():
    """Nothing in algorithms/, adapters/, models/, losses/, connectors/... imports engine/ (a hook's
    settings live on the hook), and no part imports one above it."""
    upward = [(src, dst) for src, dst in _edges()
              if _part(src) and _part(dst) and _part(src) != _part(dst) and RANK[_part(dst)] > RANK[_part(src)]]
    assert not upward, upward


def test_no_import_cycle_between_parts():
    graph = {}
    for src, dst in _edges():
        if _part(src) and _part(dst) and _part(src) != _part(dst):
            graph.setdefault(_part(src), set()).add(_part(dst))

    def reaches(start, goal, seen=()):
        return any(n == goal or (n not in seen and reaches(n, goal, (*seen, n))) for n in graph.get(start, ()))

    cycles = sorted(p for p in graph if reaches(p, p))
    assert not cycles, f'import cycle through {cycles}: {graph}'


@pytest.mark.parametrize('source, expected', [
    ('from ..engine.teacher_check import X', 'fcfd_mm.engine.teacher_check'),
    ('from . import hybrid', 'fcfd_mm.algorithms.hybrid'),
    ('import fcfd_mm.engine', 'fcfd_mm.engine')])
def test_the_import_reader_resolves_relative_imports(source, expected, tmp_path, monkeypatch):
    """The reader would miss an upward import it cannot resolve: check it on known lines."""
    fake = tmp_path / 'fcfd_mm' / 'algorithms' / 'x.py'
    fake.parent.mkdir(parents=True)
    fake.write_text(source + '\n')
    monkeypatch.setattr(sys.modules[__name__], 'PACKAGE', tmp_path / 'fcfd_mm')
    assert [dst for _, dst in _imports(fake)] == [expected]
