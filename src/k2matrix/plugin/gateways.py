"""Workers on other hosts: pytest-xdist's proxy gateways, checked before any worker starts.

A sweep across hosts runs its workers as ``popen`` gateways started *through* a proxy
gateway on each host (``--px id=h1//ssh=HOST//python=PY --tx 2*popen//via=h1``). No file is
copied: the project and its environment must be installed at the same paths on every host,
and the controller hands its workers its ``sys.path`` and the matrix's absolute path. Why
this form and not ``--tx ssh=…`` is in docs/hosts.md; in short, a direct remote gateway makes
xdist copy pytest (and, with the deprecated ``--rsyncdir``, the project) into a cache folder
whose paths differ from the controller's, so a k2 session refuses it (:func:`check_specs`).

- :func:`check_specs` (controller, at configure): refuses direct remote gateways and bounds
  xdist's restarts of crashed workers, which are unbounded without ``-n``;
- :func:`check_gateway` (controller, ``pytest_xdist_newgateway``): runs :data:`PROBE` on a
  remote gateway before its worker starts: the host's name and machine, and whether the
  matrix, the suites and k2matrix are there; a problem stops the run (a usage error, exit 2
  from ``k2matrix run``) naming the host, the path and the fix;
- :func:`host_workers`: how many of the session's workers share a node's host (the thread
  budget and the cell locks are per host).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import execnet
import pytest
from execnet import XSpec
from xdist.workermanage import parse_tx_spec_config

from k2matrix.plugin.state import get_state

RECIPE = "docs/hosts.md"
PROXY_FORM = "--px id=NAME//ssh=HOST//python=PYTHON --tx N*popen//via=NAME"


def tx_specs(config: pytest.Config) -> list[XSpec]:
    """The worker gateways of the session (``-n N`` is N times ``popen``)."""
    if not config.getoption("tx", None):
        return []
    return [XSpec(s) for s in parse_tx_spec_config(config)]


def proxy_specs(config: pytest.Config) -> dict[str, XSpec]:
    """The proxy gateways (``--px``) by id."""
    specs = [XSpec(s) for s in config.getoption("px", None) or []]
    return {str(s.id): s for s in specs if s.id}


def is_remote(spec: XSpec) -> bool:
    """Whether a worker gateway may run on another host: any gateway but a plain ``popen``."""
    return bool(spec.via) or not spec.popen


def check_specs(config: pytest.Config) -> None:
    """In the controller of a k2 session: refuse a direct remote gateway (``--tx ssh=…``,
    ``socket=…``); when a gateway is remote and ``--max-worker-restart`` was not given,
    bound xdist's restarts of crashed workers at one per worker (xdist has no bound without
    ``-n``: a worker that cannot start would be replaced without end); and start each proxy
    (so its workers) in the controller's directory, unless its spec says ``chdir=``: every
    relative path of the command line then means on each host what it means here."""
    specs = tx_specs(config)
    if specs and config.getoption("dist", "no") == "no":
        raise pytest.UsageError(
            f"--tx {specs[0]} without a --dist mode: xdist would run every cell in this "
            f"process and start no worker; add --dist worksteal (k2matrix run adds it)")
    direct = [s for s in specs if not s.popen]
    if direct:
        raise pytest.UsageError(
            f"--tx {direct[0]}: k2matrix runs remote workers through a proxy gateway, not a "
            f"direct one (xdist copies files for a direct one, and its paths differ from the "
            f"controller's); write {PROXY_FORM}, with the project and its environment at the "
            f"same paths on every host ({RECIPE})")
    unknown = [s for s in specs if s.via and str(s.via) not in proxy_specs(config)]
    if unknown:
        raise pytest.UsageError(
            f"--tx {unknown[0]}: no proxy gateway has the id {unknown[0].via!r}; add "
            f"--px id={unknown[0].via}//ssh=HOST//python=PYTHON ({RECIPE})")
    remote = [s for s in specs if is_remote(s)]
    if remote and config.getoption("maxworkerrestart", None) is None:
        config.option.maxworkerrestart = str(len(specs))
    here = Path(config.invocation_params.dir).absolute()
    config.option.px = [spec if XSpec(spec).chdir else f"{spec}//chdir={here}"
                        for spec in config.getoption("px", None) or []]


def host_key(spec: XSpec, proxies: dict[str, XSpec]) -> str:
    """What a worker gateway says about its host before it runs: the ``K2_HOST`` it is given,
    or the address of the proxy it is started through (``local`` for a plain ``popen``)."""
    named = spec.env.get("K2_HOST")
    if named:
        return f"name:{named}"
    if spec.via:
        proxy = proxies.get(str(spec.via))
        if proxy is None:
            return f"via:{spec.via}"
        if proxy.env.get("K2_HOST"):
            return f"name:{proxy.env['K2_HOST']}"
        where = proxy.ssh or proxy.socket or proxy.vagrant_ssh
        return f"at:{where}" if where else f"via:{spec.via}"
    return "local"


def host_workers(spec: XSpec, specs: Sequence[XSpec], proxies: dict[str, XSpec]) -> int:
    """How many of ``specs`` run on the host of ``spec`` (as far as the specs say)."""
    key = host_key(spec, proxies)
    return sum(1 for s in specs if host_key(s, proxies) == key)


# Runs on the remote host (execnet sends the source and runs it with ``channel``): the
# host's facts, and which of the paths and modules it is asked about are missing there.
PROBE = """
import importlib.util, os, platform, socket, sys

wanted = channel.receive()
missing = [path for path in wanted["files"] if not os.path.isfile(path)]
missing += [path for path in wanted["paths"] if not os.path.exists(path)]
sys.path[:0] = [entry for entry in wanted["sys_path"] if entry not in sys.path]
absent = [name for name in wanted["modules"] if importlib.util.find_spec(name) is None]
try:
    cores = len(os.sched_getaffinity(0))
except AttributeError:
    cores = os.cpu_count() or 1
channel.send({
    "host": os.environ.get("K2_HOST", "").strip() or socket.gethostname(),
    "machine_kind": {"system": platform.system(), "machine": platform.machine(),
                     "cpu_count": os.cpu_count(), "python": platform.python_version()},
    "usable_cores": cores, "python": sys.executable, "missing": missing,
    "modules_missing": absent,
})
"""


def check_gateway(gateway: Any, matrix: Path, paths: Sequence[Path]) -> dict[str, Any]:
    """Probe a remote gateway before its worker starts (:data:`PROBE`); the host's facts,
    or a usage error naming the host, what is missing there and the fix."""
    channel = gateway.remote_exec(PROBE)
    channel.send({"files": [str(matrix)], "paths": [str(p) for p in paths],
                  "sys_path": list(sys.path), "modules": ["k2matrix", "pytest_benchmark"]})
    facts: dict[str, Any] = channel.receive(60)
    channel.waitclose(10)
    spec = str(gateway.spec).replace("execmodel=main_thread_only//", "")  # xdist's addition
    where = f"--tx {spec} (host {facts['host']}, {facts['python']})"
    same = "the project and its environment must be at the same paths on every host"
    if str(matrix) in facts["missing"]:
        raise pytest.UsageError(
            f"{where}: no matrix file at {matrix}; {same}: copy the checkout there, or pass "
            f"a matrix path (--matrix, --k2-matrix) that exists on every host ({RECIPE})")
    if facts["missing"]:
        raise pytest.UsageError(
            f"{where}: no such file or directory: {', '.join(facts['missing'])}; {same}: "
            f"copy the checkout there, or pass test paths that exist on every host ({RECIPE})")
    if facts["modules_missing"]:
        raise pytest.UsageError(
            f"{where}: cannot import {', '.join(facts['modules_missing'])} with the "
            f"controller's sys.path; {same}: install the environment there, and give the "
            f"proxy that environment's interpreter (python=...) ({RECIPE})")
    return facts


class GatewayChecks:
    """In the controller of a k2 session (registered as a plugin): each remote gateway is
    checked (:func:`check_gateway`) before its worker starts; its facts are kept for the
    run's ``meta.json`` (``hosts``)."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionstart(self, session: pytest.Session) -> Any:
        """xdist makes its gateways as the session starts: one that cannot start (a host
        that does not answer, a folder or interpreter missing there) is a usage error."""
        try:
            return (yield)
        except (execnet.HostNotFound, execnet.RemoteError, EOFError, OSError) as exc:
            text = str(exc).strip().splitlines()
            raise pytest.UsageError(
                f"a gateway could not start ({type(exc).__name__}: "
                f"{text[-1] if text else 'no message'}); check that each --px host answers "
                f"ssh, has the interpreter its python= names, and has the controller's "
                f"directory {Path(session.config.invocation_params.dir).absolute()} "
                f"(or the spec's chdir=) ({RECIPE})") from None

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_newgateway(self, gateway: Any) -> None:
        if not is_remote(gateway.spec):
            return
        state = get_state(self._config)
        paths = [Path(a.split("::")[0]).absolute() for a in self._config.args
                 if Path(a.split("::")[0]).exists()]
        state.progress.gateways[str(gateway.id)] = check_gateway(
            gateway, state.identity.matrix_path.absolute(), paths)
