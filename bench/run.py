"""Run every benchmark of the project (``make bench``): the matcher's table for now."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    """Run each benchmark script in turn; forward extra arguments to the matcher's."""
    scripts = [[sys.executable, str(HERE / "bench_matching.py"), *sys.argv[1:]]]
    for cmd in scripts:
        code = subprocess.run(cmd, check=False).returncode
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
