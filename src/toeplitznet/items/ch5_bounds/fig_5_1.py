"""Figure 5.1: contour plots of |f(ω1, ω2)| for random convolution kernels, maximum marked.

For a kernel k of size s×s (degree d = ⌊s/2⌋), f(ω1, ω2) = Σ_{h1,h2=-d..d} k[h1, h2] e^{i(h1 ω1 + h2 ω2)}
(Eq. 5.50). The thesis does not state the kernel distribution or size; we draw standard-normal 3×3
kernels (config ``studies.fig_5_1``). For each panel we record

* the maximum modulus on a fine grid (what the red dot shows),
* PolyGrid's value on Θ_S with S = ``polygrid_samples`` (Algorithm 5.1) and the certified bound
  (1 - 2d/S)^-1 × PolyGrid (Eq. 5.52), checking fine max ≤ certified bound.

The evaluation here is a direct sum over kernel taps in numpy, independent of
:func:`toeplitznet.bounds.lipbound` (which uses FFTs), so the figure also cross-checks the library.
"""

from __future__ import annotations

import numpy as np

from ...registry import IMPLEMENTED, Item


#: JSON schema of ``studies.fig_5_1`` (validated before any job runs; unknown keys are errors)
SCHEMA = """
type: object
additionalProperties: false
required: [kernel_size, n_panels, grid_points, polygrid_samples]
properties:
  kernel_size: {$ref: "#/$defs/posint"}
  n_panels: {$ref: "#/$defs/posint"}
  grid_points: {type: integer, minimum: 16}
  polygrid_samples: {$ref: "#/$defs/posint"}
"""
ITEM = Item(id="fig_5_1", kind="figure", title="contour plots of trigonometric polynomials",
            thesis_lines="L5903-5934", status=IMPLEMENTED, schema=SCHEMA, scale_independent=True)


def trig_poly_modulus(kernel: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
    """|f(ω1, ω2)| of a 2-D kernel (Eq. 5.50) on the mesh spanned by the 1-D arrays w1 and w2."""
    s1, s2 = kernel.shape
    h1 = np.arange(s1) - s1 // 2
    h2 = np.arange(s2) - s2 // 2
    e1 = np.exp(1j * np.outer(w1, h1))  # (len(w1), s1)
    e2 = np.exp(1j * np.outer(w2, h2))  # (len(w2), s2)
    return np.abs(e1 @ kernel @ e2.T)


def run(ctx) -> None:
    p = ctx.params
    rng = np.random.default_rng(ctx.seed)
    s, S = int(p["kernel_size"]), int(p["polygrid_samples"])
    d = s // 2
    alpha = 2 * d / S
    fine = np.linspace(0, 2 * np.pi, int(p["grid_points"]), endpoint=False)
    theta = 2 * np.pi * np.arange(S) / S
    panels = []
    for i in range(int(p["n_panels"])):
        k = rng.standard_normal((s, s))
        z = trig_poly_modulus(k, fine, fine)
        a, b = np.unravel_index(np.argmax(z), z.shape)
        grid = trig_poly_modulus(k, theta, theta)
        ga, gb = np.unravel_index(np.argmax(grid), grid.shape)
        certified = grid.max() / (1 - alpha) if alpha < 1 else float("inf")
        panels.append({
            "kernel": k, "fine_max": float(z.max()), "argmax": [float(fine[a]), float(fine[b])],
            "polygrid_max": float(grid.max()), "polygrid_argmax": [float(theta[ga]), float(theta[gb])],
            "certified_bound": float(certified), "bound_holds": bool(z.max() <= certified + 1e-12),
        })
    cells = [
        {"row": "PolyGrid", "column": "grid samples S for 3x3 kernel", "value": S, "tolerance": {"abs": 0}},
        {"row": "PolyGrid", "column": "alpha", "value": alpha, "tolerance": {"abs": 1e-12}},
        {"row": "PolyGrid", "column": "min over panels of PolyGrid / fine max",
         "value": min(q["polygrid_max"] / q["fine_max"] for q in panels)},
    ]
    ctx.write_result("result", {"item": "fig_5_1", "scale_independent": True, "kernel_size": s,
                                "polygrid_samples": S, "alpha": alpha, "grid_points": len(fine),
                                "panels": panels, "cells": cells})


def plot(ctx) -> None:
    from ...report.figures import load_result, new_figure, save_figure

    src = ctx.input("result")
    res = load_result(src)
    n = len(res["panels"])
    fig, axes = new_figure(ncols=n, width=3.2, height=3.0)
    fine = np.linspace(0, 2 * np.pi, res["grid_points"], endpoint=False)
    for ax, panel in zip(axes[0], res["panels"]):
        z = trig_poly_modulus(np.asarray(panel["kernel"]), fine, fine)
        cs = ax.contourf(fine, fine, z.T, levels=20, cmap="viridis")
        ax.plot(*panel["argmax"], "o", color="red", ms=6, label="max |f|")
        ax.plot(*panel["polygrid_argmax"], "x", color="white", ms=6, label=f"PolyGrid (S={res['polygrid_samples']})")
        ax.set_xlabel("ω1")
        ax.set_ylabel("ω2")
        ax.set_title(f"max {panel['fine_max']:.2f}; PolyGrid {panel['polygrid_max']:.2f}", fontsize=8)
        fig.colorbar(cs, ax=ax, fraction=0.046)
    axes[0][0].legend(fontsize=6, loc="upper right")
    fig.suptitle("Figure 5.1: |f(ω1, ω2)| of random 3×3 kernels (red: maximum modulus)", fontsize=9)
    save_figure(fig, ctx, item="fig_5_1", sources=[src], scale_independent=True,
                notes=["Kernel distribution not stated in the thesis: standard normal used."])
