"""A cell: one combination of the matrix, run as one benchmark."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from k2matrix.axes import param_name

__all__ = ["Cell", "derive_seed", "format_param", "param_name"]

_ID_PREFIX: dict[str, str] = {"batch_size": "b", "dataset_size": "n", "selectivity": "s",
                              "s3_latency_ms": "lat", "workers": "w",
                              "commit_interval_ms": "ci", "commit_rows": "cr"}


def format_param(name: str, value: Any) -> str:
    """How a parameter value appears in a cell id (``batch_size=100`` -> ``b100``)."""
    return f"{_ID_PREFIX.get(name, '')}{value}"


def derive_seed(base_seed: int, cell_id: str) -> int:
    """A stable 32-bit seed for a cell: the same matrix seed and id give the same seed."""
    digest = hashlib.sha256(f"{base_seed}:{cell_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


@dataclass(frozen=True)
class Cell:
    """One benchmark cell.

    ``params`` holds the swept axis values under their singular names (``schema``,
    ``batch_size``, ``query_shape``, …) and appears in the id; ``settings`` holds the data
    shape and workload sizes of the profile (not in the id, but in every record).
    """

    id: str
    component: str
    case: str
    params: Mapping[str, Any]
    seed: int
    slow: bool = False
    settings: Mapping[str, Any] = field(default_factory=dict)
    exclusive: bool = False  # under xdist it runs with no other cell beside it
    not_countable: str = ""  # the case's reason its instructions cannot be counted

    @property
    def uncounted(self) -> str | None:
        """Why this cell's work cannot be counted in instructions (it happens on other
        threads or in another process), or None when it can."""
        if self.not_countable:
            return self.not_countable
        if self.params.get("storage") == "s3":
            return "its S3 requests are served by another process"
        if self.params.get("catalog") not in (None, "sqlite"):
            return f"its {self.params['catalog']} catalog is another process"
        return None

    @property
    def key(self) -> str:
        """``component.case``, as matrix.toml names the case."""
        return f"{self.component}.{self.case}"

    @property
    def schema(self) -> str:
        """The cell's schema (``v1``/``v2``), or ``""`` where the case does not sweep it."""
        return str(self.params.get("schema", ""))

    def get(self, name: str, default: Any = None) -> Any:
        """A parameter, else a setting, else ``default``."""
        if name in self.params:
            return self.params[name]
        return self.settings.get(name, default)

    def axes(self) -> dict[str, Any]:
        """A flat, JSON-able description: id, component, case, schema and every parameter."""
        out: dict[str, Any] = {
            "id": self.id,
            "component": self.component,
            "case": self.case,
            "schema": self.schema,
        }
        out.update(self.params)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Everything about the cell as plain data (crosses xdist process boundaries)."""
        out = self.axes()
        out["seed"] = self.seed
        out["slow"] = self.slow
        if self.exclusive:
            out["exclusive"] = True
        if self.not_countable:
            out["not_countable"] = self.not_countable
        out["settings"] = dict(self.settings)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cell:
        reserved = {"id", "component", "case", "schema", "seed", "slow", "exclusive", "settings",
                    "not_countable"}
        params = {k: v for k, v in data.items() if k not in reserved}
        if data.get("schema"):
            params = {"schema": data["schema"], **params}
        return cls(
            id=str(data["id"]),
            component=str(data["component"]),
            case=str(data["case"]),
            params=params,
            seed=int(data["seed"]),
            slow=bool(data.get("slow", False)),
            settings=dict(data.get("settings", {})),
            exclusive=bool(data.get("exclusive", False)),
            not_countable=str(data.get("not_countable", "")),
        )
