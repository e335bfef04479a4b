"""The run's environment for people (the record: :mod:`k2matrix.results.environment`): where
each backend was, the measured libraries' versions, the machine, its load and the commit,
as the lines at the top of a report, and the warning of a load above the machine's CPUs
(other work competed with the run, so its timings are suspect).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from k2matrix.results.environment import MEASURED_LIBRARIES

_KAFKA = {"mock": "librdkafka mock cluster", "bootstrap": "bootstrap servers",
          "tansu": "Tansu broker"}
_REGISTRY = {"mock": "in-memory (mock)", "server": "server"}
_STORAGE = {"local": "local disk", "embedded-s3": "embedded S3 (moto on loopback)",
            "s3": "S3"}


def _d(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _backend(name: str, entry: Mapping[str, Any], words: Mapping[str, str]) -> str:
    mode = entry.get("mode")
    text = f"{name} {words.get(str(mode), str(mode))}"
    if entry.get("brokers"):
        text += f" ({entry['brokers']} brokers)"
    if entry.get("address"):
        text += f" at {entry['address']}"
    if entry.get("bucket"):
        text += f", bucket {entry['bucket']}/{entry.get('prefix') or ''}".rstrip("/")
    if entry.get("s3_cells") and entry.get("s3_cells") != entry.get("address"):
        text += f" (-s3 cells: {entry['s3_cells']})"
    return text


def _host(name: str, entry: Mapping[str, Any]) -> str:
    """One host of a run across hosts: its cells, workers and usable cores."""
    workers = entry.get("workers")
    parts = [f"{entry.get('cells', 0)} cells"]
    if isinstance(workers, Sequence) and workers:
        parts.append(", ".join(str(w) for w in workers))
    if entry.get("usable_cores"):
        parts.append(f"{entry['usable_cores']} usable cores")
    return f"{name} ({'; '.join(parts)})"


def _load(values: Any) -> str:
    return f"{values[0]:g}" if isinstance(values, Sequence) and values else "?"


def environment_lines(env: Mapping[str, Any]) -> list[str]:
    """The environment as report lines (a run without the record: one line saying so)."""
    if not env.get("recorded"):
        return [f"Environment: unknown ({env.get('note') or 'not recorded'})"]
    backends = _d(env.get("backends"))
    catalog = _d(backends.get("catalog"))
    lines = ["Environment:", "  Backends: " + "; ".join([
        _backend("Kafka", _d(backends.get("kafka")), _KAFKA),
        _backend("schema registry", _d(backends.get("schema_registry")), _REGISTRY),
        f"catalog {catalog.get('mode')}" + (f" at {catalog['address']}"
                                            if catalog.get("address") else ""),
        _backend("storage", _d(backends.get("storage")), _STORAGE)])]
    libraries = _d(env.get("libraries"))
    named = [f"{name} {libraries.get(name) or '?'}" for name in MEASURED_LIBRARIES
             if name != "librdkafka"]
    if libraries.get("librdkafka"):
        named[0] += f" (librdkafka {libraries['librdkafka']})"
    lines.append("  Libraries: " + ", ".join(named))
    machine, load = _d(env.get("machine")), _d(env.get("load"))
    usable = machine.get("usable_cores")
    cores = f"{machine.get('cores') or '?'} cores" + (
        f" ({usable} usable)" if usable and usable != machine.get("cores") else "")
    lines.append(f"  Machine: {machine.get('cpu_model') or 'unknown CPU'}, {cores}; load "
                 f"{_load(load.get('start'))} at the start, {_load(load.get('end'))} at the "
                 "end (1-minute averages)")
    hosts = _d(env.get("hosts"))
    if len(hosts) > 1:
        lines.append("  Hosts: " + "; ".join(_host(name, _d(entry))
                                           for name, entry in hosts.items())
                     + " (overlap and contention judged per host)")
    git = _d(env.get("git"))
    if git.get("commit"):
        dirty = (", dirty (uncommitted changes)" if git.get("dirty") is True
                 else ", clean" if git.get("dirty") is False else "")
        lines.append(f"  Commit: {str(git['commit'])[:12]}"
                     + (f" on {git['branch']}" if git.get("branch") else "") + dirty)
    else:
        lines.append("  Commit: unknown (not a git checkout)")
    return lines


def environment_warnings(env: Mapping[str, Any]) -> list[str]:
    """A warning when the 1-minute load average at the start or the end of the run was
    above the machine's CPU count."""
    cores = _d(env.get("machine")).get("cores")
    load = _d(env.get("load"))
    if not isinstance(cores, int) or cores < 1:
        return []
    high = [f"{values[0]:g} at the {when}" for when in ("start", "end")
            if isinstance(values := load.get(when), Sequence) and values
            and isinstance(values[0], int | float) and values[0] > cores]
    if not high:
        return []
    return [f"high load: the 1-minute load average was {' and '.join(high)}, above the "
            f"machine's {cores} CPUs: other work competed with the run, so its timings are "
            "suspect; measure again on a quiet machine, or compare both sides under the same "
            "load (k2matrix ab)"]
