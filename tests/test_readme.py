"""The README and docs/ stay true and navigable: the README's registered-names table lists exactly
what ``fcfd_mm`` registers (read from the registries), the README is a short page, every relative
link in README.md and docs/*.md reaches an existing file (and heading), the README's install and
test commands are the ones CI runs, and no user-facing file points at developer-only documents."""
import importlib
import importlib.util
import re
from pathlib import Path

import pytest
from mmengine.registry import Registry

import fcfd_mm  # noqa: F401  (registers everything)

REPO = Path(__file__).resolve().parents[1]
README = REPO / 'README.md'
PAGES = [README] + sorted((REPO / 'docs').glob('*.md'))
#: where fcfd_mm may register names: (label used in the README's table, module holding registries)
REGISTRY_MODULES = [('mmengine', 'mmengine.registry'), ('mmrazor', 'mmrazor.registry'),
                    ('mmdet', 'mmdet.registry'), ('mmpretrain', 'mmpretrain.registry'),
                    ('fcfd_mm', 'fcfd_mm.adapters.registry')]


def registered_by_fcfd_mm() -> set:
    """``{(name, 'package REGISTRY')}`` of every class or function from ``fcfd_mm`` in the
    registries of the stack (a registry's own entries, not its parents')."""
    found, seen = set(), set()
    for package, module_name in REGISTRY_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # mmpretrain is optional: its names are then not registered either
            continue
        for attr, registry in vars(module).items():
            if not isinstance(registry, Registry) or id(registry) in seen:
                continue  # e.g. mmdet.registry re-exports mmengine's root registries as MMENGINE_*
            seen.add(id(registry))
            if package == 'fcfd_mm':
                registry.import_from_location()  # the adapters register when first queried
            for name, obj in registry.module_dict.items():
                if getattr(obj, '__module__', '').split('.')[0] == 'fcfd_mm':
                    found.add((name, f'{package} {attr}'))
    return found


def readme_table(heading: str) -> list:
    """The cells of the first Markdown table after ``heading`` (contiguous ``|`` rows only: a
    blank line ends a table on GitHub, so rows after it would not render and are not read)."""
    lines = README.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip('# ') == heading and line.startswith('#'))
    rows, in_table = [], False
    for line in lines[start + 1:]:
        if line.startswith('|'):
            in_table = True
            rows.append([c.strip() for c in line.strip().strip('|').split('|')])
        elif in_table or line.startswith('#'):
            break
    return [r for r in rows[2:]]  # drop the header and the |---| row


def test_registered_names_table_lists_exactly_what_fcfd_mm_registers():
    table = set()
    for names, registry, _ in readme_table('Registered names'):
        for name in re.findall(r'`([^`]+)`', names):
            table.add((name, registry.replace('`', '')))
    registered = registered_by_fcfd_mm()
    assert registered, 'no registered name found: the registry scan is broken'
    if importlib.util.find_spec('mmpretrain') is None:
        table = {(n, r) for n, r in table if not r.startswith('mmpretrain ')}
    missing, stale = sorted(registered - table), sorted(table - registered)
    assert not missing, f'registered but not in the README table ("Registered names"): {missing}'
    assert not stale, f'in the README table but not registered (or under another registry): {stale}'


def test_readme_is_a_short_page():
    n = len(README.read_text().splitlines())
    assert n <= 250, f'README.md has {n} lines; move details into a page under docs/ and link it'


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces -> '-'."""
    return re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-')


def anchors(page: Path) -> set:
    text = re.sub(r'```.*?```', '', page.read_text(), flags=re.S)  # '#' lines in code blocks are no headings
    return {github_anchor(m) for m in re.findall(r'^#+ (.+)$', text, flags=re.M)}


def relative_links(page: Path) -> list:
    text = re.sub(r'```.*?```', '', page.read_text(), flags=re.S)
    return [t for t in re.findall(r'\]\(([^)\s]+)\)', text) if not re.match(r'[a-z]+:', t)]


def test_github_anchor_matches_githubs_rule():
    assert github_anchor('Bridges (`FCFDBridge`)') == 'bridges-fcfdbridge'
    assert github_anchor('Install, test, demo') == 'install-test-demo'
    assert github_anchor('Overhead controls (**ours**, off by default)') == 'overhead-controls-ours-off-by-default'


@pytest.mark.parametrize('page', PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_relative_links_point_at_existing_files_and_headings(page):
    links = relative_links(page)
    bad = []
    for link in links:
        path, _, anchor = link.partition('#')
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            bad.append(f'{link}: no file {target}')
        elif anchor and target.suffix == '.md' and anchor not in anchors(target):
            bad.append(f'{link}: no heading #{anchor} in {target.name}')
    assert not bad, f'{page.name}: broken links: {bad}'
    if page == README:
        assert len(links) >= 10  # the parser finds the README's links at all


def test_readme_install_and_test_commands_are_the_ones_ci_runs():
    ci = (REPO / '.ci' / 'run').read_text()
    readme = README.read_text()
    install = 'python3 -m venv .venv && . .venv/bin/activate && bash tools/install.sh'
    assert install in ci and install in readme
    for step in ('. .venv/bin/activate && ruff check .', '. .venv/bin/activate && python -m pytest'):
        assert re.search(rf'^{re.escape(step)}$', ci, flags=re.M), step
    assert '. .venv/bin/activate && ruff check . && python -m pytest' in readme


#: developer-only documents that ship nowhere; user-facing files explain things in their own words
FORBIDDEN = re.compile(r'spec §|design\.md|\.\./shared|/work/shared|fcfd-spec', re.I)
PRODUCT = ['fcfd_mm', 'configs', 'tools', 'docs', 'benchmarks', 'requirements', 'README.md', 'setup.py',
           'requirements.txt']


def test_user_facing_files_do_not_point_at_developer_documents():
    hits = []
    for entry in PRODUCT:
        root = REPO / entry
        files = [root] if root.is_file() else [p for p in root.rglob('*') if p.is_file()] if root.exists() else []
        for f in files:
            if f.suffix not in ('.py', '.md', '.txt', '.sh', '.cfg', '.toml', ''):
                continue
            for n, line in enumerate(f.read_text(errors='replace').splitlines(), 1):
                if FORBIDDEN.search(line):
                    hits.append(f'{f.relative_to(REPO)}:{n}: {line.strip()[:100]}')
    assert not hits, hits


def test_readme_usage_config_is_the_shipped_faster_rcnn_config(tmp_path):
    """The README's one-config example parses, and apart from the FCFD settings the shipped config
    writes out (official defaults) and its multi-scale data, it is configs/fcfd_frcnn_r101_r50_coco.py."""
    from mmengine.config import Config
    text = README.read_text()
    usage = text[text.index('\n## Usage\n'):]
    code = re.search(r'```python\n(.*?)```', usage, flags=re.S).group(1)
    (tmp_path / 'readme_config.py').write_text(code)
    ours = Config.fromfile(str(tmp_path / 'readme_config.py'))
    shipped = Config.fromfile(str(REPO / 'configs' / 'fcfd_frcnn_r101_r50_coco.py'))
    assert {k: v for k, v in ours.model.items() if k != 'fcfd'} == \
        {k: v for k, v in shipped.model.items() if k != 'fcfd'}
    assert ours.model.fcfd.neck.paths == shipped.model.fcfd.neck.paths
    for key in ('optim_wrapper', 'val_cfg', 'custom_hooks', 'find_unused_parameters', 'custom_imports',
                'default_hooks'):
        assert ours[key] == shipped[key], key
    assert ours.train_dataloader.dataset.type == shipped.train_dataloader.dataset.type
