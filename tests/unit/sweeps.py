"""Running a sweep in a pytester subprocess as a user would, not as a worker of the unit
tests' own ``pytest -n``: the outer xdist worker id and thread budget are not inherited."""

from __future__ import annotations

import pytest

from k2matrix.plugin.threads import THREAD_VARIABLES


def run_sweep(p: pytest.Pytester, *args: str, env: dict[str, str] | None = None
              ) -> pytest.RunResult:
    """``pytest -p no:cacheprovider ARGS`` in ``p``'s folder, in a fresh process, with
    ``env`` set and the outer worker's variables removed."""
    mp = pytest.MonkeyPatch()
    mp.delenv("PYTEST_XDIST_WORKER", raising=False)  # when the unit tests run under -n
    for name in THREAD_VARIABLES:  # nor inherit the outer worker's thread budget
        mp.delenv(name, raising=False)
    for key, value in (env or {}).items():
        mp.setenv(key, value)
    try:
        return p.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=300)
    finally:
        mp.undo()
