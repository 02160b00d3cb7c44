"""Derived arm values: a named, torch-free function from the value an arm's key reads to the number judged.

An :class:`~toeplitznet.claims.model.Arm` with ``derive="<name>"`` passes the value at its key (after pattern
gathering, before ``reduce``) through ``DERIVATIONS[name](value, **args)``. ``args`` come from the arm's
``derive_args``; a string ``"$config:<dotted key>"`` is read from the run's config when the DAG is planned
(:func:`toeplitznet.claims.select.arm_args`), so the claim and the item it mirrors use the same setting, and a changed setting reruns
the claims job. A missing or null config value makes the claim unresolvable in that config (it is then listed as
not planned). No torch import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["DERIVATIONS", "CONFIG_REF", "thm_c2_guarantee"]

CONFIG_REF = "$config:"


def _one_part(value: Any, what: str) -> Mapping[str, Any]:
    if isinstance(value, list):
        if len(value) != 1:
            raise ValueError(f"{what}: expected exactly one matching result, got {len(value)}")
        value = value[0]
    if not isinstance(value, Mapping):
        raise ValueError(f"{what}: expected a result object, got {type(value).__name__}")
    return value


def thm_c2_guarantee(value: Any, *, alpha: float, renyi_order: float = 1.0,
                     laplace_form: str = "exponential_family", clip: bool = True) -> float:
    """Theorem C.2's guaranteed accuracy at perturbation norm ``alpha`` (thesis L7786-7800, Figures C.2/C.3)
    from one ``guarantee`` evaluation (its ``accuracy``, ``mean_exp_neg_entropy``, ``dist`` and ``sd_unit``).

    ``alpha`` is on the thesis's [-1, 1] scale, as the items' budgets are; the evaluation's sd is on our [0, 1]
    pixels (``sd_unit``), so α is halved (ε depends on α / sd only). Clipped at 0 with ``clip``, as Figure C.2
    draws it."""
    from ..robust.guarantee import curve  # pure arithmetic; robust's package import is lazy (no torch)

    g = _one_part(value, "thm_c2_guarantee")
    missing = [k for k in ("accuracy", "mean_exp_neg_entropy", "dist", "sd_unit") if k not in g]
    if missing:
        raise ValueError(f"thm_c2_guarantee: the guarantee evaluation lacks {missing}")
    return curve(g["accuracy"], g["mean_exp_neg_entropy"], g["dist"], float(g["sd_unit"]), [float(alpha) / 2.0],
                 renyi_order=float(renyi_order), laplace_form=laplace_form, clip=clip)[0]


#: name -> function(value, **args) -> float
DERIVATIONS = {"thm_c2_guarantee": thm_c2_guarantee}
