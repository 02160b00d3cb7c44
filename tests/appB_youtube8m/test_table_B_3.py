"""Table B.3: CR against the dense row of the same embedding; the paper counts (truncated) of the thesis."""
import math

import pytest

from toeplitznet.items.appB_youtube8m import table_B_3
from toeplitznet.items.ch4_youtube8m import param_counts_yt8m
from toeplitznet.reference import thesis_cells
from toeplitznet.yt8m import runs as Y
from yt8m_items import SMOKE, Ctx, cells, inputs_for


def test_paper_counts_truncate_to_the_thesis():
    printed = {c.row: c.value for c in thesis_cells("table_B_3") if c.column == "#Parameters"}
    for r in table_B_3.MODELS({"embeddings": ["dbof", "netvlad", "netfv"]}):
        n = param_counts_yt8m.count(Y.paper_model(r))["n_params"]
        assert math.floor(n / 1e6) == printed[r.label], r.label


def test_cells(tmp_path):
    p = SMOKE["studies"]["table_B_3"]
    counts = {"DBoF / FC Dense": 200, "DBoF / FC Circulant": 150, "NetVLAD / FC Dense": 100,
              "NetVLAD / FC Circulant": 50, "NetFisher / FC Dense": 10, "NetFisher / FC Circulant": 9}
    ctx = Ctx(inputs_for(tmp_path, table_B_3, p, {}, counts), p)
    table_B_3.run(ctx)
    c = cells(ctx)
    assert c[("DBoF / FC Circulant", "CR")] == pytest.approx(25.0)
    assert c[("NetVLAD / FC Circulant", "CR")] == pytest.approx(50.0)
    assert c[("NetFisher / FC Circulant", "CR")] == pytest.approx(10.0)
