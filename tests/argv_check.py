"""A stand-in for ``python`` that records command lines instead of running them, and the check
of each recorded line against the tool's own parser (tests/test_gpu_check.py runs
benchmarks/gpu_check.sh with ``PYTHON`` pointing here).

As ``python``: every call is appended as a JSON list to ``$ARGV_CHECK_LOG``; a script on stdin
(``-``) is run by the real interpreter; a torchrun call prints the line the script greps for.
"""
import importlib.util
import json
import os
import sys


def parse_with(script: str, args: list) -> None:
    """Import ``script`` (its ``__main__`` block does not run) and call its ``parse_args(args)``;
    argparse exits 2 on a flag it does not take."""
    name = 'argv_check_' + os.path.splitext(os.path.basename(script))[0]
    spec = importlib.util.spec_from_file_location(name, script)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses (tools/build_mmcv.py) look their module up while it loads
    spec.loader.exec_module(module)
    module.parse_args(args)


def check(call: list, cwd: str) -> bool:
    """Parse one recorded ``python`` command line with its tool's parser; False when it is not a
    script or torchrun call (``-m pip``, ``-m pytest``, ``-c CODE``, ``-``)."""
    if call[:2] == ['-m', 'torch.distributed.run']:
        from torch.distributed.run import parse_args
        args = parse_args(call[2:])
        parse_with(os.path.join(cwd, args.training_script), args.training_script_args)
        return True
    if call[0].startswith('-'):
        return False
    parse_with(os.path.join(cwd, call[0]), call[1:])
    return True


def main(argv: list) -> int:
    with open(os.environ['ARGV_CHECK_LOG'], 'a') as f:
        f.write(json.dumps(argv) + '\n')
    if argv[:1] == ['-']:
        os.execv(sys.executable, [sys.executable, *argv])
    if argv[:2] == ['-m', 'torch.distributed.run']:
        print('Distributed training: True (argv_check: recorded, not run)')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
