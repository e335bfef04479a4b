"""What a side of an A/B is: a SPEC, checked and made ready before anything is measured.

- ``git:REF``: the project at REF, in a worktree under ``.k2matrix/ab/<commit>/`` with its
  own environment made by the project's bootstrap script (``scripts/bootstrap.sh``), both
  kept per commit, so the next A/B of the same commit starts at once;
- ``python:PATH``: the interpreter of an environment that has k2matrix and the code under
  test installed;
- ``env:NAME=VALUE[,NAME=VALUE...]``: this environment with extra environment variables,
  set for every process of the side (pytest and its xdist workers inherit them);
- ``set:KEY=VALUE[,...]``: this environment with matrix overrides, ``KEY`` a dotted path
  into matrix.toml and ``VALUE`` a TOML value (a bare word is a string):
  ``set:backends.kafka.producer.linger_ms=5``, ``set:data.skew=1.5``. ``set:`` alone is the
  unchanged matrix;
- several joined by ``+`` (at most one ``git:`` or ``python:``, first):
  ``python:/venv/bin/python+env:K2_THREADS=1``, ``set:data.skew=1.5+env:X=1``.

Every problem is a :class:`SpecError` (exit code 2) naming the SPEC and the fix.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from k2matrix.errors import K2Error

KINDS = ("git", "python", "env", "set")
BOOTSTRAP = Path("scripts") / "bootstrap.sh"
READY = ".k2-ab-ready"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SpecError(K2Error):
    """A SPEC that cannot be used."""


@dataclass
class Side:
    """One side of an A/B, ready to run trials."""

    name: str  # "baseline" or "candidate"
    spec: str
    python: str
    project: Path  # the folder with tests/performance (and matrix.toml)
    matrix: Path
    env: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    workdir: Path | None = None  # the dataset cache (None: the project's .k2matrix/)
    matrix_text: str | None = None  # the matrix with the set: overrides, checked


def split_items(text: str) -> list[str]:
    """``a=1,b=[1,2]`` -> ``["a=1", "b=[1,2]"]``: commas inside brackets or quotes stay."""
    items: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append("".join(current))
            current = []
            continue
        current.append(ch)
    if current:
        items.append("".join(current))
    return [i.strip() for i in items if i.strip()]


def _pairs(spec: str, body: str, what: str) -> list[tuple[str, str]]:
    out = []
    for item in split_items(body):
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise SpecError(f"{spec}: {item!r} is not {what}=VALUE; write e.g. "
                            f"{'env:K2_THREADS=1' if what == 'NAME' else 'set:data.skew=1.5'}")
        out.append((name.strip(), value.strip()))
    return out


def toml_value(text: str) -> Any:
    """A TOML value (``5``, ``1.5``, ``true``, ``"x"``, ``[1, 2]``); a bare word is a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def set_key(data: dict[str, Any], key: str, value: Any, spec: str) -> None:
    """Set the dotted ``key`` in the matrix ``data``: every table on the way must exist."""
    parts = key.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if not isinstance(node, dict) or part not in node or not isinstance(node[part], dict):
            where = ".".join(parts[:i + 1])
            raise SpecError(f"{spec}: {key}: the matrix has no table [{where}]; name a key "
                            "of matrix.toml (docs/matrix.md)")
        node = node[part]
    node[parts[-1]] = value


def _check_python(spec: str, python: str) -> None:
    path = Path(python)
    if not path.is_file() or not os.access(path, os.X_OK):
        raise SpecError(f"{spec}: {python} is not an executable file; give the python of an "
                        "environment (for example .venv/bin/python)")
    probe = subprocess.run([python, "-c", "import k2matrix.plugin, k2matrix.results.folding"],
                           capture_output=True, text=True, timeout=120)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise SpecError(f"{spec}: k2matrix (with trials) is not importable by {python}: "
                        f"{last}; install it there (pip install -e /path/to/k2matrix)")


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          timeout=300)


def _git_side(name: str, spec: str, ref: str, repo: Path, cache: Path) -> Side:
    found = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.returncode != 0:
        raise SpecError(f"{spec}: {ref!r} is not a commit of {repo} (git rev-parse found "
                        "nothing); name a branch, tag or commit, e.g. git:HEAD~1 or git:main")
    commit = found.stdout.strip()
    tree = cache / commit[:12]
    if not (tree / ".git").exists():
        tree.parent.mkdir(parents=True, exist_ok=True)
        added = _git(repo, "worktree", "add", "--detach", "--force", str(tree), commit)
        if added.returncode != 0:
            raise SpecError(f"{spec}: could not make a worktree of {commit[:12]} at {tree}: "
                            f"{added.stderr.strip()}; remove {tree} and try again")
    if not (tree / READY).is_file():
        if not (tree / BOOTSTRAP).is_file():
            raise SpecError(f"{spec}: commit {commit[:12]} has no {BOOTSTRAP}, so its "
                            "environment cannot be made; compare a commit that has it, or "
                            "make an environment yourself and use python:PATH")
        print(f"k2matrix ab: making the environment of {spec} ({commit[:12]}) with "
              f"{BOOTSTRAP}…", file=sys.stderr, flush=True)
        env = {**os.environ, "PYTHON": sys.executable}
        made = subprocess.run(["bash", str(BOOTSTRAP)], cwd=tree, env=env,
                              capture_output=True, text=True)
        if made.returncode != 0:
            tail = "\n".join((made.stdout + made.stderr).strip().splitlines()[-5:])
            raise SpecError(f"{spec}: {BOOTSTRAP} failed in {tree} (exit {made.returncode}):"
                            f"\n{tail}\nfix the environment there and run again")
        (tree / READY).write_text(commit + "\n")
    python = str(tree / ".venv" / "bin" / "python")
    _check_python(spec, python)
    return Side(name=name, spec=spec, python=python, project=tree,
                matrix=tree / "matrix.toml", workdir=tree / ".k2matrix")


_JOIN = re.compile(r"\+(?=(?:git|python|env|set):)")


def prepare(name: str, spec: str, project: Path, matrix: Path, repo_cache: Path) -> Side:
    """Check ``spec`` (one SPEC or several joined by ``+``) and make its side ready (a
    SpecError says what is wrong)."""
    parts = _JOIN.split(spec)
    if len(parts) == 1:
        return _prepare_one(name, spec, project, matrix, repo_cache)
    envs = [p for p in parts[1:] if p.startswith(("git:", "python:"))]
    if envs:
        raise SpecError(f"--{name} {spec}: {envs[0]!r} must come first (one git: or python: "
                        "per side, then env: and set: parts)")
    side = _prepare_one(name, parts[0], project, matrix, repo_cache)
    for part in parts[1:]:
        extra = _prepare_one(name, part, project, matrix, repo_cache)
        side.env.update(extra.env)
        side.overrides.update(extra.overrides)
    side.spec = spec
    return side


def _prepare_one(name: str, spec: str, project: Path, matrix: Path, repo_cache: Path
                 ) -> Side:
    kind, colon, body = spec.partition(":")
    if not colon or kind not in KINDS:
        raise SpecError(f"--{name} {spec!r}: unknown kind of SPEC; use one of git:REF, "
                        "python:PATH, env:NAME=VALUE[,...] or set:KEY=VALUE[,...]")
    if kind == "git":
        if not body:
            raise SpecError(f"--{name} {spec}: name a commit, e.g. git:HEAD~1")
        return _git_side(name, spec, body, project, repo_cache)
    side = Side(name=name, spec=spec, python=sys.executable, project=project, matrix=matrix)
    if kind == "python":
        if not body:
            raise SpecError(f"--{name} {spec}: give the interpreter, e.g. "
                            "python:/path/to/venv/bin/python")
        python = Path(body).expanduser()
        side.python = str(python if python.is_absolute() else Path.cwd() / python)
        _check_python(spec, side.python)
    elif kind == "env":
        for key, value in _pairs(spec, body, "NAME"):
            if not _NAME.match(key):
                raise SpecError(f"{spec}: {key!r} is not an environment variable name")
            side.env[key] = value
    else:
        side.overrides = {k: toml_value(v) for k, v in _pairs(spec, body, "KEY")}
    return side


def check_matrix(side: Side) -> None:
    """A side with ``set:`` overrides: its matrix with them applied, checked by the matrix
    loader (an unknown key is named with a suggestion) before anything is written."""
    if not side.overrides:
        return
    import tomli_w

    from k2matrix.matrix import load_matrix

    data = tomllib.loads(side.matrix.read_text(encoding="utf-8"))
    for key, value in side.overrides.items():
        set_key(data, key, value, side.spec)
    text = tomli_w.dumps(data)
    with tempfile.TemporaryDirectory(prefix="k2-ab-matrix-") as scratch:
        path = Path(scratch) / "matrix.toml"
        path.write_text(text, encoding="utf-8")
        try:
            load_matrix(path)
        except K2Error as exc:
            raise SpecError(f"{side.spec}: the matrix with these overrides is not valid:\n"
                            f"{exc}") from None
    side.matrix_text = text


def write_matrix(side: Side, folder: Path) -> None:
    """Write a checked side matrix into ``folder`` (the side's run directory)."""
    if side.matrix_text is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    side.matrix = folder / "matrix.toml"
    side.matrix.write_text(side.matrix_text, encoding="utf-8")
