"""Claims as data: a directional claim of the thesis, the runs it compares and how it is judged.

A :class:`Claim` is declared by a chapter package (``CLAIMS = [Claim(...)]`` in
``toeplitznet/items/<chapter>/__init__.py``) and collected by the item registry (``Registry.claims``). Each
:class:`Arm` names the *values* behind one side of the comparison without naming run ids, which depend on the
config: the item whose ``runs`` / ``evaluations`` hooks plan the runs, the run labels to match, the evaluation
attributes to match (or ``None``: the run's ``metrics.json``; or ``result``: the item's study result), and the
key to read. One value is read per training seed (the run and its replicas), so a claim is judged on seed-level
values (:mod:`toeplitznet.claims.judge`). No torch import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["Arm", "Claim", "ClaimError", "STATISTICS", "DIRECTIONS", "SOURCES"]

#: how a claim's arms are compared (docs/claims.md)
STATISTICS = {
    "difference": "mean over seeds of arm 1 minus that of arm 2 (Welch t interval over seed-level values)",
    "trend": "OLS slope of the seed-level values on the arms' x (t interval on n - 2 df)",
    "ordering": "arms 1 >= 2 >= ... : every adjacent difference judged as 'difference'",
    "exact": "a deterministic computation (no sampling): the value itself against the threshold",
}
DIRECTIONS = (">", "<")
#: where an arm's values come from: a run's metrics.json, one of its evaluations, a study result's cells, or
#: a key of a study result
SOURCES = ("metrics", "evaluation", "cell", "result")


class ClaimError(ValueError):
    """An inconsistent claim declaration (the message names the claim)."""


def _frozen(m: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(m or {}))


@dataclass(frozen=True)
class Arm:
    """One side of a comparison.

    ``item``: the registry item whose hooks plan the runs (``source`` metrics/evaluation) or whose study result
    holds the value (``source`` ``cell`` or ``result``). ``labels``: every given key must equal the run's label (exactly one run
    must match; a value ``"$max"`` / ``"$min"`` picks the run with the largest / smallest such label among the
    others' matches). ``evaluation``: attributes the evaluation spec must have (e.g. ``{"kind": "pgd", "norm":
    "linf"}``; exactly one evaluation of the run must match). ``key``: dotted path in the JSON file
    (``final_eval.test.accuracy``; a tuple of parts when a part has a dot: ``("accuracy_at", "0.6")``; parts
    may be patterns, ``parts.natural_*.accuracy``, gathering every match); for ``cell`` the ``(row, column)``
    of a cell (both may be patterns: every match, as a list). ``reduce``: how a list value becomes one number per seed (``mean``,
    ``median``, ``min``, ``max``, ``quantile:0.9``; ``only``: the pattern must match exactly one value, so that
    a second matching evaluation is an error instead of being averaged in). ``x_label``: in a trend claim, the arm stands for every
    matching run, each a point at x = its label ``x_label``.
    ``x``: the arm's abscissa in a trend claim. ``name``: how tables show the arm. ``derive``: the name of a
    :data:`~toeplitznet.claims.derive.DERIVATIONS` function applied to the value at ``key`` before ``reduce``,
    with keyword arguments ``derive_args`` (``"$config:<dotted key>"`` values are read from the config when the
    DAG is planned).
    """

    name: str
    item: str
    key: str | tuple[str, ...]
    source: str = "evaluation"
    labels: Mapping[str, Any] = field(default_factory=dict)
    evaluation: Mapping[str, Any] = field(default_factory=dict)
    reduce: str = "mean"
    x: float | None = None
    x_label: str | None = None
    derive: str | None = None
    derive_args: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        from .derive import DERIVATIONS

        object.__setattr__(self, "labels", _frozen(self.labels))
        object.__setattr__(self, "evaluation", _frozen(self.evaluation))
        object.__setattr__(self, "derive_args", _frozen(self.derive_args))
        if self.derive is not None and self.derive not in DERIVATIONS:
            raise ClaimError(f"arm {self.name}: derive must be one of {sorted(DERIVATIONS)}, got {self.derive!r}")
        if self.derive_args and self.derive is None:
            raise ClaimError(f"arm {self.name}: derive_args without derive")
        if self.source not in SOURCES:
            raise ClaimError(f"arm {self.name}: source must be one of {SOURCES}, got {self.source!r}")
        if self.source == "cell" and not (isinstance(self.key, tuple) and len(self.key) == 2):
            raise ClaimError(f"arm {self.name}: a 'cell' arm's key is (row, column), got {self.key!r}")
        if self.source == "evaluation" and not self.evaluation:
            raise ClaimError(f"arm {self.name}: an 'evaluation' arm needs evaluation attributes to match")
        if not (self.reduce in ("mean", "median", "min", "max", "only") or self.reduce.startswith("quantile:")):
            raise ClaimError(f"arm {self.name}: reduce must be mean, median, min, max, only or quantile:<q>, "
                             f"got {self.reduce!r}")
        if self.reduce.startswith("quantile:"):
            q = float(self.reduce.split(":", 1)[1])
            if not 0.0 <= q <= 1.0:
                raise ClaimError(f"arm {self.name}: quantile {q} outside [0, 1]")


@dataclass(frozen=True)
class Claim:
    """A directional claim: ``statistic(arms) <direction> threshold`` (see :data:`STATISTICS`).

    ``thesis_lines``: where the thesis asserts it (``"L4848-4852"``; ECAI lines as ``"E191"``). ``text``: the
    claim in one sentence. ``note``: what differs from the thesis's setting (stand-in data, a smaller model, a
    claim about the method judged on synthetic data ...). ``exact`` claims need no seeds; the others need at
    least two seeds per arm to be decided (one seed never decides).
    """

    id: str
    text: str
    thesis_lines: str
    statistic: str
    arms: tuple[Arm, ...]
    direction: str = ">"
    threshold: float = 0.0
    note: str = ""
    chapter: str = ""

    def __post_init__(self):
        object.__setattr__(self, "arms", tuple(self.arms))
        where = f"claim {self.id}"
        if not self.thesis_lines:
            raise ClaimError(f"{where}: every claim names its thesis line(s)")
        if self.statistic not in STATISTICS:
            raise ClaimError(f"{where}: statistic must be one of {sorted(STATISTICS)}, got {self.statistic!r}")
        if self.direction not in DIRECTIONS:
            raise ClaimError(f"{where}: direction must be one of {DIRECTIONS}, got {self.direction!r}")
        n = len(self.arms)
        need = {"difference": n == 2, "trend": n >= 2 or (n == 1 and self.arms[0].x_label is not None), "ordering": n >= 2, "exact": n == 1}[self.statistic]
        if not need:
            raise ClaimError(f"{where}: statistic {self.statistic!r} cannot take {n} arm(s)")
        if self.statistic == "trend" and any(a.x is None and a.x_label is None for a in self.arms):
            raise ClaimError(f"{where}: a trend claim needs x or x_label on every arm")
        if self.statistic != "trend" and any(a.x_label for a in self.arms):
            raise ClaimError(f"{where}: only a trend claim's arm may stand for several runs (x_label)")
        if len({a.name for a in self.arms}) != n:
            raise ClaimError(f"{where}: arm names repeat")

    @property
    def items(self) -> tuple[str, ...]:
        """The items whose runs or results the claim reads."""
        return tuple(dict.fromkeys(a.item for a in self.arms))
