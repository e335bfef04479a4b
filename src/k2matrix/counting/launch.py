"""Starting a process whose regions are counted: valgrind's callgrind in front of the
command, and the environment pinned so that the same work executes the same instructions.

What makes counts of one region vary from one fresh process to the next, and what is pinned
against it (the figures are in docs/measurements.md):

- hash randomization (string hashes change dict and set layouts): ``PYTHONHASHSEED=0``;
- Python's small-object allocator, whose paths depend on what earlier calls left in its
  pools: ``PYTHONMALLOC=malloc`` (the C allocator), and Arrow's pool, which returns memory
  on a timer: ``ARROW_DEFAULT_MEMORY_POOL=system``;
- thread pools (DuckDB, Arrow, Polars, pyiceberg size theirs to the machine, and valgrind
  runs threads one at a time in an order the scheduler picks): one thread each;
- the garbage collector: collected before, and off during, every counted round (the plugin);
- the first call of a region (imports, caches, specialization): rounds after a warm-up.

``pinned()`` is recorded with every counted cell (``extra_info.k2.pinned``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from k2matrix.counting.callgrind import DIR_VARIABLE, HELPER, INSTALL_STEP, CountingError, helper

VALGRIND_PACKAGE = "valgrind"
PINNED: dict[str, str] = {
    "PYTHONHASHSEED": "0",
    # pymalloc's pools take fast or slow paths by the state earlier calls left; the C
    # allocator's do far less (docs/measurements.md)
    "PYTHONMALLOC": "malloc",
    "K2_THREADS": "1",            # DuckDB connections (backends/duckdb_ext.py)
    "OMP_NUM_THREADS": "1",       # Arrow's CPU thread pool
    "ARROW_IO_THREADS": "1",      # Arrow's I/O thread pool
    "POLARS_MAX_THREADS": "1",    # Polars
    "PYICEBERG_MAX_WORKERS": "1",  # pyiceberg's executor
    # Arrow's default pool (jemalloc or mimalloc) returns memory on a timer: counts move
    # with the wall clock
    "ARROW_DEFAULT_MEMORY_POOL": "system",
}
# processes a counted run may start that are not Python code under test
_SKIP_CHILDREN = "*/git,*/sh,*/bash,*/dash,*/uname,*/lscpu,*/pg_isready"


def valgrind() -> str:
    """The valgrind executable; CountingError naming the package when it is missing."""
    found = shutil.which("valgrind")
    if found is None:
        raise CountingError("--clock instructions needs valgrind, which is not installed: "
                            f"install the {VALGRIND_PACKAGE} package (apt-get install "
                            f"{VALGRIND_PACKAGE}), then run `{INSTALL_STEP}` to build "
                            f"{HELPER}")
    return found


def check_ready() -> None:
    """Refuse before any work when instructions cannot be counted here: valgrind missing
    (names the package) or the helper not built (names the install step)."""
    valgrind()
    if helper() is None:
        raise CountingError(f"--clock instructions needs the counting helper {HELPER}, "
                            f"which is not built: run `{INSTALL_STEP}` (it compiles it "
                            "against valgrind/callgrind.h)")


def pinned(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The pinned settings as this process has them."""
    env = os.environ if environ is None else environ
    return {name: env.get(name, "") for name in PINNED}


def environment(base: Mapping[str, str], out_dir: Path) -> dict[str, str]:
    """``base`` with the pinned settings (they override: a count is only comparable with
    counts taken the same way) and the dump folder."""
    env = dict(base)
    env.update(PINNED)
    env[DIR_VARIABLE] = str(out_dir)
    return env


def command(argv: Sequence[str], out_dir: Path) -> list[str]:
    """``argv`` under callgrind, instrumentation off until a region starts it; children
    (xdist workers) are followed, other programs are not; valgrind's own messages go to
    files in ``out_dir``, the dumps too."""
    return [valgrind(), "--tool=callgrind", "--instr-atstart=no", "--trace-children=yes",
            f"--trace-children-skip={_SKIP_CHILDREN}",
            f"--callgrind-out-file={out_dir}/cg.%p", f"--log-file={out_dir}/valgrind.%p.log",
            "--dump-instr=no", *argv]
