"""Figure B.9: the nine compact models' paper counts against the figure's x values, and the prose cells."""
import csv

import pytest

from toeplitznet.items.appB_youtube8m import fig_B_9
from toeplitznet.items.ch4_youtube8m import param_counts_yt8m
from toeplitznet.reference import figure_data_path
from toeplitznet.yt8m import runs as Y
from toeplitznet.yt8m.variants import frame_kwargs, frame_run_name
from yt8m_items import Ctx, cells, inputs_for


def test_counts_match_the_figure_x():
    with open(figure_data_path(fig_B_9.REFERENCE), newline="") as fh:
        x = {r["label"]: float(r["x"]) for r in csv.DictReader(fh)}
    assert set(x) == set(fig_B_9.LABELS.values())
    for r in fig_B_9.MODELS({"models": list(range(1, 10))}):
        n = param_counts_yt8m.count(Y.paper_model(r))["n_params"] / 1e6
        # the figure's x values are read off the plot: some truncate the count, some round it
        assert x[r.label] in (int(n), round(n)), r.label


def test_prose_cells(tmp_path):
    p = {"models": [4, 7]}
    dense = f"yt8m_{frame_run_name(frame_kwargs('fig_b9_diversity_dense'))}"
    counts = {fig_B_9.LABELS[4]: 59_490_000, fig_B_9.LABELS[7]: 159_410_000, "__extra__": {dense: 728_700_000}}
    ctx = Ctx(inputs_for(tmp_path, fig_B_9, p, {fig_B_9.LABELS[4]: 0.7}, counts), p)
    fig_B_9.run(ctx)
    c = cells(ctx)
    assert c[("DBoF (circulant FC)", "GAP@20 at best trade-off")] == 0.7
    assert c[("DBoF (circulant FC)", "#weights at best trade-off")] == pytest.approx(59.49)
    row = "diversity model NetVLAD(256)+NetFV(128)"
    assert c[(f"{row}, compact", "#params")] == pytest.approx(159.41)
    assert c[(f"{row}, dense", "model size")] == pytest.approx(728.7e6 * 4 / 2**30)   # 2.71 GiB: "2.7 Go"
    assert c[(f"{row}, compact", "model size")] == pytest.approx(159.41e6 * 4 / 2**20)
