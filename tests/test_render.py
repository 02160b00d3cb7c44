import csv
import json

import pytest

from toeplitznet.reference import ThesisCell, thesis_cells, thesis_item_id
from toeplitznet.report import tables as T
from toeplitznet.report.provenance import Provenance


def test_item_names_map_to_thesis_ids():
    assert thesis_item_id("table_D_1") == "table_d_1"
    assert thesis_item_id("fig_5_2") == "figure_5_2"
    assert thesis_item_id("fig_B_3") == "figure_b_3"
    assert thesis_item_id("ecai_fig_2a") == "ecai_figure_2"
    assert len(thesis_cells("table_5_2")) == 52


def _cell(value, cited=False):
    return ThesisCell("x", "r", "c", value, None, "", "1", "cited (x)" if cited else "our result")


@pytest.mark.parametrize("ours,thesis,scale,indep,tol,expected", [
    (1.00, 1.04, "paper", False, {"abs": 0, "rel": 0.05}, T.REPRODUCED),   # |Δ| = 0.04 ≤ 0.052
    (1.00, 1.06, "paper", False, {"abs": 0, "rel": 0.05}, T.DEVIATES),     # |Δ| = 0.06 > 0.053
    (1.00, 1.06, "paper", False, {"abs": 0.1, "rel": 0}, T.REPRODUCED),
    (1.00, 1.00, "smoke", False, {"abs": 1, "rel": 1}, T.SMOKE),           # smoke is never compared
    (1.00, 1.00, "smoke", True, {"abs": 0, "rel": 0}, T.REPRODUCED),       # exact computations are
    (None, 1.00, "paper", False, {"abs": 0, "rel": 0}, T.PENDING),
])
def test_cell_status(ours, thesis, scale, indep, tol, expected):
    status, diff, _ = T.cell_status(ours, _cell(thesis), scale=scale, scale_independent=indep, tol=tol)
    assert status == expected
    if ours is not None:
        assert diff == pytest.approx(ours - thesis)


def test_cited_cells_never_compared():
    assert T.cell_status(0.61, _cell(0.61, cited=True), scale="paper", scale_independent=False,
                         tol={"abs": 1, "rel": 0})[0] == T.CITED
    assert T.cell_status(None, _cell(0.61, cited=True), scale="paper", scale_independent=False,
                         tol={"abs": 1, "rel": 0})[0] == T.CITED


def test_render_table_joins_thesis_values(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    thesis_csv = tmp_path / "tv.csv"
    thesis_csv.write_text(
        "item,row,column,value,plus_minus,unit,source_line,note\n"
        "table_9_9,A,acc,0.50,0.01,fraction,10,our result\n"
        "table_9_9,B,acc,0.70,,fraction,11,our result\n"
        "table_9_9,C,acc,0.61,,fraction,12,cited (Someone 2015)\n")
    res = tmp_path / "res.json"
    Provenance(rule="t", scale="paper").write_json(res, {"scale": "paper", "cells": [
        {"row": "A", "column": "acc", "value": 0.52, "plus_minus": 0.02},
        {"row": "B", "column": "acc", "value": 0.60},
        {"row": "D", "column": "acc", "value": 0.9}]})
    outs = {k: str(tmp_path / f"t.{k}") for k in ("csv", "md", "tex")}
    outs["prov"] = str(tmp_path / "t.provenance.json")
    T.render_table("table_9_9", [str(res)], outs, {"default": {"rel": 0.05}}, thesis_csv=thesis_csv)
    rows = {(r["row"], r["column"]): r for r in csv.DictReader(open(outs["csv"]))}
    assert rows[("A", "acc")]["status"] == T.REPRODUCED          # 0.52 vs 0.50: |Δ| 0.02 ≤ 0.025
    assert float(rows[("A", "acc")]["diff"]) == pytest.approx(0.02)
    assert rows[("B", "acc")]["status"] == T.DEVIATES            # 0.60 vs 0.70
    assert rows[("C", "acc")]["status"] == T.CITED and rows[("C", "acc")]["ours"] == ""
    assert rows[("D", "acc")]["status"] == T.EXTRA
    assert rows[("A", "acc")]["thesis"] == "0.5" and rows[("A", "acc")]["thesis_pm"] == "0.01"
    md = open(outs["md"]).read()
    assert "Scale: paper" in md and "0.52 ± 0.02" in md
    prov = json.load(open(outs["prov"]))
    a = next(c for c in prov["cells"] if c["row"] == "A")
    assert a["source"] == str(res) and a["pointer"] == "/cells/0/value"
    assert "\\begin{tabular}" in open(outs["tex"]).read()


def test_render_refuses_mixed_scales(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"scale": "smoke", "cells": [{"row": "x", "column": "y", "value": 1}]}))
    b.write_text(json.dumps({"scale": "paper", "cells": [{"row": "z", "column": "y", "value": 1}]}))
    with pytest.raises(T.RenderError, match="mix scales"):
        T.collect("table_D_1", [a, b], {"default": {}})


def test_smoke_table_says_smoke(tmp_path):
    res = tmp_path / "r.json"
    res.write_text(json.dumps({"scale": "smoke", "cells": [{"row": "MNIST", "column": "Dim. (d)", "value": 784}]}))
    cells, meta = T.collect("table_D_1", [res], {"default": {"abs": 0}})
    c = next(c for c in cells if c.row == "MNIST" and c.column == "Dim. (d)")
    assert c.status == T.SMOKE
    md = T.to_markdown(cells, meta, "cap")
    assert "NOT a reproduction" in md


def test_compare_with_another_thesis_column_and_cell_level_scale_independence(tmp_path):
    thesis_csv = tmp_path / "tv.csv"
    thesis_csv.write_text(
        "item,row,column,value,plus_minus,unit,source_line,note\n"
        "table_9_9,Net,#Parameters,49,,K params,10,our result\n"
        "table_9_9,Net,Accuracy,0.54,,fraction,10,our result\n"
        "table_9_9,Big,#Parameters,110,,K params,11,our result\n")
    res = tmp_path / "r.json"
    res.write_text(json.dumps({"scale": "smoke", "cells": [
        {"row": "Net", "column": "#Parameters", "value": 12.5},                    # smoke model: not comparable
        {"row": "Net", "column": "Accuracy", "value": 0.8},
        {"row": "Net", "column": "#Parameters (paper architecture)", "value": 49.172, "compare_with": "#Parameters",
         "scale_independent": True, "tolerance": {"abs": 1}},                        # 49.172 - 49 = 0.172 <= 1
        {"row": "Big", "column": "#Parameters (paper architecture)", "value": 108.864,
         "compare_with": "#Parameters", "scale_independent": True, "tolerance": {"abs": 1}}]}))  # -1.136: out
    cells, meta = T.collect("table_9_9", [res], {"default": {"rel": 0.05}}, thesis_csv=thesis_csv)
    by = {(c.row, c.column): c for c in cells}
    assert by[("Net", "#Parameters")].status == T.SMOKE
    assert by[("Net", "Accuracy")].status == T.SMOKE
    paper = by[("Net", "#Parameters (paper architecture)")]
    assert paper.status == T.REPRODUCED and paper.thesis == 49 and paper.unit == "K params"
    assert paper.diff == pytest.approx(0.172)
    assert meta["independent_columns"] == ["#Parameters (paper architecture)"]
    md = T.to_markdown(cells, meta, "cap")
    assert "NOT a reproduction" in md and "exception: the scale-independent column(s) '#Parameters (paper" in md
    big = by[("Big", "#Parameters (paper architecture)")]
    assert big.status == T.DEVIATES and big.diff == pytest.approx(-1.136)
    res.write_text(json.dumps({"scale": "smoke", "cells": [
        {"row": "Net", "column": "x", "value": 1, "compare_with": "no such column"}]}))
    with pytest.raises(T.RenderError, match="no such column"):
        T.collect("table_9_9", [res], {"default": {}}, thesis_csv=thesis_csv)
