"""Run every benchmark of the project (``make bench``): each ``bench/bench_*.py`` in turn.

Arguments are passed to ``bench_matching.py`` (e.g. ``--sizes 1000,10000``); ``--only NAME``
runs just ``bench_NAME.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    """Run each benchmark script in a subprocess; return the first failure's exit code."""
    args = sys.argv[1:]
    only = None
    if "--only" in args:
        at = args.index("--only")
        only = args[at + 1]
        args = args[:at] + args[at + 2 :]
    failed = 0
    for script in sorted(HERE.glob("bench_*.py")):
        name = script.stem.removeprefix("bench_")
        if only is not None and name != only:
            continue
        extra = args if name == "matching" else []
        print(f"== {script.name} ==", flush=True)
        code = subprocess.run([sys.executable, str(script), *extra], check=False).returncode
        if code and not failed:
            failed = code
    return failed


if __name__ == "__main__":
    sys.exit(main())
