"""Print the pins of cxassess's dependency closure, as installed: ``make lock`` writes them
to ``.ci/constraints.txt``, which ``make env`` and the wheel test install with ``pip -c``.

Usage: ``.venv/bin/python .ci/freeze.py report,lab,xes,dev > .ci/constraints.txt``

The closure starts at cxassess with the given extras and follows every installed package's
requirements whose environment markers hold here (Linux, this Python); cxassess itself is
left out. Only standard-library code and ``packaging`` (which pip needs anyway) are used.
"""

from __future__ import annotations

import sys
from importlib import metadata

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def closure(extras: set[str]) -> dict[str, str]:
    """Canonical name -> installed version of every package cxassess[extras] needs."""
    found: dict[str, str] = {}
    todo: list[tuple[str, frozenset[str]]] = [("cxassess", frozenset(extras))]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, wanted = todo.pop()
        if (name, wanted) in seen:
            continue
        seen.add((name, wanted))
        dist = metadata.distribution(name)
        if name != "cxassess":
            found[name] = dist.version
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is not None and not any(
                req.marker.evaluate({**default_environment(), "extra": extra}) for extra in wanted | {""}
            ):
                continue
            todo.append((canonicalize_name(req.name), frozenset(req.extras)))
    return found


def main(argv: list[str]) -> int:
    extras = {e for e in (argv[0] if argv else "").split(",") if e}
    pins = closure(extras)
    print(f"# pip constraints: cxassess[{','.join(sorted(extras))}] and every package it needs,")
    print("# at the versions installed when `make lock` last ran (Python "
          f"{sys.version_info.major}.{sys.version_info.minor}, {sys.platform}). Used by make env and the wheel test.")
    for name in sorted(pins):
        print(f"{name}=={pins[name]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
