"""How commit latency grows with a table's history, with and without the writer's
:class:`~k2matrix.writer.iceberg.Maintenance` (snapshot expiry in the append, capped
metadata log, manifest merging).

Run: ``python -m k2matrix.tools.commit_history --commits 300 --rows 100``
(a SQLite catalog in a temporary folder unless ``--catalog-uri`` names another). It appends
``--commits`` batches of ``--rows`` V2 rows to one table per mode and prints the mean commit
latency of the first and the last tenth of the commits (wall clock, and the process's CPU
time, which other load on the machine does not inflate), and the snapshots left.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence

from k2matrix.backends.catalog import open_catalog
from k2matrix.backends.config import CatalogConfig
from k2matrix.workload.generate import WorkloadSpec, generate_table
from k2matrix.writer.bench import first_and_last_tenth
from k2matrix.writer.iceberg import CommitRecord, IcebergWriter, Maintenance

MODES = {"maintained": Maintenance(), "pyiceberg-defaults": Maintenance.off()}


def run_history(writer: IcebergWriter, table: str, commits: int, rows: int, seed: int = 1
                ) -> list[CommitRecord]:
    data = generate_table(WorkloadSpec("v2", rows, seed))
    start = len(writer.commits)
    for _ in range(commits):
        writer.write_arrow(data, table)
    return writer.commits[start:]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m k2matrix.tools.commit_history",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--catalog-uri", default="sqlite:///{warehouse}/catalog.db")
    parser.add_argument("--modes", nargs="+", choices=sorted(MODES), default=list(MODES))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="k2-history-") as folder:
        config = CatalogConfig(uri=args.catalog_uri, warehouse=folder, namespace="history")
        catalog = open_catalog(config)
        print(f"{args.commits} commits of {args.rows} V2 rows each")
        print(f"{'mode':<20} {'first tenth ms':>15} {'last tenth ms':>14} {'growth':>7} "
              f"{'cpu first ms':>13} {'cpu last ms':>12} {'cpu growth':>10} {'snapshots':>9}")
        for mode in args.modes:
            writer = IcebergWriter(catalog, namespace="history", maintenance=MODES[mode])
            name = f"h_{mode.replace('-', '_')}"
            records = run_history(writer, name, args.commits, args.rows)
            first, last = first_and_last_tenth([c.total_ms for c in records])
            cpu_first, cpu_last = first_and_last_tenth([c.cpu_ms for c in records])
            snapshots = len(writer.table(name).metadata.snapshots)
            print(f"{mode:<20} {first:>15.1f} {last:>14.1f} {last / first:>7.2f} "
                  f"{cpu_first:>13.1f} {cpu_last:>12.1f} {cpu_last / cpu_first:>10.2f} "
                  f"{snapshots:>9}")
            catalog.purge_table(f"history.{name}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
