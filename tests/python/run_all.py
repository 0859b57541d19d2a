"""Runs every Python interop check under tests/python (files named check_*.py).

Each check is a script that exits non-zero on failure. The summary line uses the plain
'N passed, N failed' form that CI reads.
"""
import os
import pathlib
import subprocess
import sys

here = pathlib.Path(__file__).parent
checks = sorted(here.glob("check_*.py")) + sorted((here.parent / "conformance").glob("check_*.py"))
passed = failed = 0
for check in checks:
    print(f"--- {check.name}", flush=True)
    r = subprocess.run([sys.executable, str(check)], env=os.environ.copy())
    if r.returncode == 0:
        passed += 1
    else:
        failed += 1
        print(f"FAILED: {check.name} (exit {r.returncode})", flush=True)
print(f"python: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
