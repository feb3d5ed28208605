"""Record the golden outputs again and print what changed: ``python tests/golden/regenerate.py``.

Run it only for a deliberate change of output, and commit the new record in its own commit that
says why.  ``--check`` compares without writing.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from golden import record
from golden.cases import CASES, run_case


def main(argv: list[str]) -> int:
    check = "--check" in argv
    old = record.load()[0] if record.ARRAYS.exists() else {}
    new: dict = {}
    for name in CASES:
        new |= run_case(name)
    changed = 0
    for key in sorted(set(old) | set(new)):
        if key not in new:
            print(f"removed  {key}")
        elif key not in old:
            print(f"new      {key}")
        elif (diff := record.difference(new[key], old[key])) is not None:
            print(f"changed  {key}: {diff}")
        else:
            continue
        changed += 1
    print(f"{changed} of {len(new)} arrays changed ({record.machine()})")
    if not check:
        record.save(new)
        print(f"wrote {record.ARRAYS} and {record.META}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
