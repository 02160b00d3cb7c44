"""From a claim's arms to files (at planning time) and to seed-level values (in the claims job).

:func:`arm_paths` finds the one run (by labels) and evaluation (by attributes) an arm names through the hooks of
its item, or the item's study result; :func:`seed_values` reads one number per training seed from the run's
file and its replicas' (``<input>__seed<k>`` inputs, :mod:`toeplitznet.plan`). No torch import.
"""

from __future__ import annotations

import fnmatch
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..runs.seeds import SEED_SEP
from .derive import CONFIG_REF, DERIVATIONS
from .model import Arm, Claim, ClaimError

__all__ = ["arm_paths", "arm_args", "input_name", "resolve", "read_key", "reduce_value", "seed_values", "EXTREMES"]


def _matches(have: Mapping[str, Any] | None, want: Mapping[str, Any]) -> bool:
    have = have or {}
    return all(k in have and have[k] == v for k, v in want.items() if v not in EXTREMES)


EXTREMES = ("$max", "$min")


def _runs_matching(runs: Mapping[str, Mapping[str, Any]], want: Mapping[str, Any]) -> list[str]:
    """Run ids whose labels equal ``want`` (``$max`` / ``$min`` values: the extreme label among the matches)."""
    ids = [r for r, spec in runs.items() if _matches(spec.get("labels"), want)]
    for k, v in want.items():
        if v in EXTREMES:
            vals = [runs[r]["labels"][k] for r in ids if runs[r].get("labels", {}).get(k) is not None]
            if vals:
                best = max(vals) if v == "$max" else min(vals)
                ids = [r for r in ids if runs[r]["labels"].get(k) == best]
    return ids


def _one(found: list, what: str, claim: Claim, arm: Arm) -> Any:
    if len(found) != 1:
        raise ClaimError(f"claim {claim.id}, arm {arm.name!r}: {len(found)} {what} match "
                         f"({', '.join(map(str, found)) or 'none'}); exactly one must")
    return found[0]


def _check_active(claim: Claim, arm: Arm, config: Mapping[str, Any], reg) -> None:
    if arm.item not in reg.items or not reg.items[arm.item].built:
        raise ClaimError(f"claim {claim.id}, arm {arm.name!r}: unknown or pending item {arm.item!r}")
    missing = [s for s in reg.required_sections(arm.item) if s not in config.get("studies", {})]
    if missing:
        raise ClaimError(f"claim {claim.id} reads item {arm.item}, whose config section(s) "
                         f"{', '.join('studies.' + s for s in missing)} are missing from this config")


def arm_paths(claim: Claim, arm: Arm, config: Mapping[str, Any], paths, reg) -> list[tuple[str, float | None]]:
    """``[(file, x)]`` holding the arm's value for the global seed (replicas are added by the plan): one file,
    or, for a trend arm with ``x_label``, one per matching run with x = that label (sorted by x)."""
    _check_active(claim, arm, config, reg)
    if arm.source in ("cell", "result"):
        return [(paths.result(reg.items[arm.item].study), arm.x)]
    runs_fn = reg.hook(arm.item, "runs")
    runs = runs_fn(config, paths) if runs_fn else {}
    ids = _runs_matching(runs, arm.labels)
    if arm.x_label is None:
        ids = [_one(ids, "runs", claim, arm)]
    elif len(ids) < 2:
        raise ClaimError(f"claim {claim.id}, arm {arm.name!r}: a trend needs at least two runs with distinct "
                         f"{arm.x_label!r}; this config plans {len(ids)} ({', '.join(ids) or 'none'})")
    out = []
    for rid in ids:
        x = float(runs[rid]["labels"][arm.x_label]) if arm.x_label else arm.x
        if arm.source == "metrics":
            out.append((paths.run(rid, "metrics.json"), x))
            continue
        evals_fn = reg.hook(arm.item, "evaluations")
        evals = evals_fn(config, paths) if evals_fn else {}
        eid = _one([e for (r, e), spec in evals.items() if r == rid and _matches(spec, arm.evaluation)],
                   "evaluations", claim, arm)
        out.append((paths.evaluation(rid, eid), x))
    return sorted(out, key=lambda t: (t[1] is None, t[1]))


def arm_args(claim: Claim, arm: Arm, config: Mapping[str, Any]) -> dict[str, Any]:
    """The arm's ``derive_args`` with its ``$config:`` references read from ``config`` (ClaimError when one is
    absent or null: the claim is not planned in this config)."""
    out = {}
    for name, v in arm.derive_args.items():
        if isinstance(v, str) and v.startswith(CONFIG_REF):
            key = v[len(CONFIG_REF):]
            where = f"claim {claim.id}, arm {arm.name!r}, argument {name!r}"
            try:
                v = _walk(config, _parts(key), where, key)[0]
            except KeyError as exc:
                raise ClaimError(f"{exc.args[0]} in this config") from None
            if v is None:
                raise ClaimError(f"{where}: config key {key!r} is null in this config")
        out[name] = v
    return out


def input_name(claim: Claim, k: int, j: int = 0) -> str:
    """Name of the claims job's input holding run ``j`` of arm ``k`` of ``claim``."""
    return f"{claim.id}__arm{k}" + (f"_{j}" if j else "")


def resolve(claims: Sequence[Claim], config: Mapping[str, Any], paths, reg) -> list[dict[str, Any]]:
    """Every (claim, arm, run) the claims job reads: ``{"claim", "arm", "input", "x", "path", "args"}`` (``args``:
    the arm's resolved ``derive_args``)."""
    out = []
    for c in claims:
        for k, a in enumerate(c.arms):
            args = arm_args(c, a, config)
            for j, (path, x) in enumerate(arm_paths(c, a, config, paths, reg)):
                out.append({"claim": c.id, "arm": k, "input": input_name(c, k, j), "x": x, "path": path,
                            "args": args})
    return out


def _parts(key: str | Sequence[str]) -> list[str]:
    return key.split(".") if isinstance(key, str) else [str(k) for k in key]


def _walk(cur: Any, parts: Sequence[str], where: str, full: str) -> list[Any]:
    """Every value at ``parts`` below ``cur``; a part with ``*`` / ``?`` matches every key (or list element)."""
    if not parts:
        return [cur]
    head, rest = parts[0], parts[1:]
    if any(ch in head for ch in "*?["):
        if isinstance(cur, Mapping):
            kids = [v for k, v in cur.items() if fnmatch.fnmatchcase(str(k), head)]
        elif isinstance(cur, list) and head == "*":
            kids = list(cur)
        else:
            kids = []
        if not kids:
            raise KeyError(f"{where}: nothing matches {head!r} of key {full!r}")
        return [v for k in kids for v in _walk(k, rest, where, full)]
    if not isinstance(cur, Mapping) or head not in cur:
        raise KeyError(f"{where}: no key {full!r} (missing {head!r})")
    return _walk(cur[head], rest, where, full)


def read_key(data: Mapping[str, Any], arm: Arm, where: str) -> Any:
    """The arm's value in ``data``: at its dotted key (components may be patterns, which gather every match
    into a list), or the value of its cell ``(row, column)`` (patterns: every matching cell, a list).
    KeyError naming ``where`` when nothing matches."""
    if arm.source == "cell":
        row, column = arm.key
        pattern = any(ch in row + column for ch in "*?[")
        hits = [c.get("value") for c in data.get("cells", [])
                if fnmatch.fnmatchcase(str(c.get("column")), column) and fnmatch.fnmatchcase(str(c.get("row")), row)]
        if not hits or (not pattern and len(hits) != 1):
            raise KeyError(f"{where}: {len(hits)} cells ({row!r}, {column!r}); "
                           + ("at least one" if pattern else "exactly one") + " expected")
        return hits if pattern else hits[0]
    parts = _parts(arm.key)
    found = _walk(data, parts, where, ".".join(parts))
    pattern = any(any(ch in p for ch in "*?[") for p in parts)
    return _flatten(found) if pattern else found[0]


def _flatten(vals: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for v in vals:
        out.extend(_flatten(v) if isinstance(v, list) else [v])
    return out


def reduce_value(value: Any, how: str, where: str) -> float | None:
    """One number from a value: numbers and booleans (1.0 / 0.0) as they are, lists by ``how`` (``mean``,
    ``median``, ``min``, ``max``, ``quantile:<q>`` with linear interpolation; ``only``: exactly one element,
    else ValueError); None stays None."""
    if value is None:
        return None
    if isinstance(value, (bool, int, float)):
        return float(value)
    if isinstance(value, list):
        if how == "only":
            if len(value) != 1:
                raise ValueError(f"{where}: reduce 'only' needs exactly one matching value, got {len(value)}")
            return None if value[0] is None else float(value[0])
        vals = sorted(float(v) for v in value if v is not None)
        if not vals:
            return None
        if how == "mean":
            return sum(vals) / len(vals)
        if how in ("min", "max"):
            return vals[0] if how == "min" else vals[-1]
        q = 0.5 if how == "median" else float(how.split(":", 1)[1])
        pos = q * (len(vals) - 1)  # linear interpolation between order statistics (numpy's default)
        lo = math.floor(pos)
        hi = min(lo + 1, len(vals) - 1)
        return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)
    raise ValueError(f"{where}: value {value!r} is not a number or a list of numbers")


def seed_values(inputs: Mapping[str, Any], arm: Arm, name: str, load=None,
                args: Mapping[str, Any] | None = None) -> list[tuple[str, float | None]]:
    """``[(file, value)]`` of input ``name`` (one run of ``arm``): the global seed's file, then its replicas'
    (inputs ``<name>__seed<k>``) in input order. A diverged run's value is None. With ``arm.derive``, the value
    at the key goes through that derivation with ``args`` (the resolved ``derive_args``) before ``reduce``."""
    load = load or (lambda p: json.loads(open(p).read()))
    files = [str(inputs[name])] + [str(v) for n, v in inputs.items() if n.startswith(name + SEED_SEP)]
    out = []
    for f in files:
        data = load(f)
        if arm.source == "metrics" and data.get("status") == "diverged":
            out.append((f, None))
            continue
        value = read_key(data, arm, f)
        if arm.derive is not None:
            try:
                value = DERIVATIONS[arm.derive](value, **dict(args or {}))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{f}: {arm.key}: derivation {arm.derive}: {exc}") from exc
        out.append((f, reduce_value(value, arm.reduce, f"{f}: {arm.key}")))
    return out
