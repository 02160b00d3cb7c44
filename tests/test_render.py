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
    T.render_table("table_9_9", [str(res)], outs, {"default": {"rel": 0.05}, "points": {"abs": 2.5}},
                   thesis_csv=thesis_csv)
    rows = {(r["row"], r["column"]): r for r in csv.DictReader(open(outs["csv"]))}
    # an accuracy ("acc", a fraction) is judged in points: 0.52 vs 0.50 is 2 points <= 2.5
    assert rows[("A", "acc")]["status"] == T.REPRODUCED
    assert rows[("A", "acc")]["claim"] == "pm" and "2.5 point" in rows[("A", "acc")]["rule"]
    assert float(rows[("A", "acc")]["diff"]) == pytest.approx(0.02)
    assert rows[("B", "acc")]["status"] == T.DEVIATES            # 0.60 vs 0.70: 10 points
    assert "10 points" in rows[("B", "acc")]["reason"]
    assert rows[("C", "acc")]["status"] == T.CITED and rows[("C", "acc")]["ours"] == ""
    assert rows[("D", "acc")]["status"] == T.EXTRA
    assert rows[("A", "acc")]["thesis"] == "0.5" and rows[("A", "acc")]["thesis_pm"] == "0.01"
    assert rows[("C", "acc")]["claim"] == "citation"
    md = open(outs["md"]).read()
    assert "Scale: paper" in md and "0.52 ± 0.02" in md
    assert "| claim |" in md and "Seeds behind each number: not recorded" in md
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
    assert big.status == T.DEVIATES and big.diff == pytest.approx(-1.136)   # 108.864: 108 / 109, not 110
    assert big.claim == "count" and "truncated or rounded" in big.rule
    res.write_text(json.dumps({"scale": "smoke", "cells": [
        {"row": "Net", "column": "x", "value": 1, "compare_with": "no such column"}]}))
    with pytest.raises(T.RenderError, match="no such column"):
        T.collect("table_9_9", [res], {"default": {}}, thesis_csv=thesis_csv)


THESIS_CLAIMS = (
    "item,row,column,value,plus_minus,unit,source_line,note,claim,precision\n"
    "table_9_9,Net,#Parameters,110,,K params,10,our result,count,\n"
    "table_9_9,Net,Accuracy,0.70,,fraction (test accuracy),10,our result,point,\n"
    "table_9_9,Net,Time (ms),4.75,1.1,ms,11,our result,timing@Tesla V100 (L6054),\n"
    "table_9_9,Net,Ratio,8.14,,PM time / LipBound time,11,our result,ratio,\n"
    "table_9_9,setup,kernels,20,,kernels,12,setting,setting,\n"
    "table_9_9,Net,bound,78,,%,13,prose,lower,\n")


def _write(tmp_path, name, payload, seeds=(0,)):
    path = tmp_path / name
    Provenance(rule="t", scale=payload["scale"], seeds=list(seeds)).write_json(path, payload)
    return str(path)


def test_one_count_gets_one_verdict(tmp_path):
    """The trained count and the paper-architecture count of the same network (compare_with) get the same rule
    and the same verdict, whatever tolerance a cell carries."""
    tv = tmp_path / "tv.csv"
    tv.write_text(THESIS_CLAIMS)
    for count, expected in ((108.864, T.DEVIATES), (110.4, T.REPRODUCED)):
        res = _write(tmp_path, "r.json", {"item": "table_9_9", "scale": "paper", "cells": [
            {"row": "Net", "column": "#Parameters", "value": count},
            {"row": "Net", "column": "#Parameters (paper architecture)", "value": count,
             "compare_with": "#Parameters", "scale_independent": True, "tolerance": {"abs": 1}}]})
        cells, _ = T.collect("table_9_9", [res], {"default": {"rel": 0.05}}, thesis_csv=tv)
        by = {c.column: c for c in cells if c.row == "Net"}
        assert by["#Parameters"].status == by["#Parameters (paper architecture)"].status == expected
        assert by["#Parameters"].rule == by["#Parameters (paper architecture)"].rule


def test_timings_settings_ratios_bounds_and_seeds_in_a_rendered_table(tmp_path):
    tv = tmp_path / "tv.csv"
    tv.write_text(THESIS_CLAIMS)
    res = _write(tmp_path, "r.json", {"item": "table_9_9", "scale": "paper", "device_name": "NVIDIA H200",
                                      "seeds": [0, 1, 2], "cells": [
        {"row": "Net", "column": "Time (ms)", "value": 0.9, "plus_minus": 0.1},
        {"row": "Net", "column": "Ratio", "value": 9.5},
        {"row": "setup", "column": "kernels", "value": 20},
        {"row": "Net", "column": "bound", "value": 80.0},
        {"row": "Net", "column": "Accuracy", "value": 0.705, "plus_minus": 0.004, "n_seeds": 3,
         "fitted": "studies.x.depth"}]})
    outs = {k: str(tmp_path / f"t.{k}") for k in ("csv", "md", "tex")}
    outs["prov"] = str(tmp_path / "t.provenance.json")
    T.render_table("table_9_9", [res], outs, {"default": {"rel": 0.05}}, thesis_csv=tv)
    rows = {(r["row"], r["column"]): r for r in csv.DictReader(open(outs["csv"]))}
    assert rows[("Net", "Time (ms)")]["status"] == T.HARDWARE and "NVIDIA H200" in rows[("Net", "Time (ms)")]["rule"]
    assert rows[("Net", "Ratio")]["status"] == T.REPRODUCED and rows[("Net", "Ratio")]["claim"] == "ratio"
    assert rows[("setup", "kernels")]["status"] == T.SETTING
    assert rows[("Net", "bound")]["status"] == T.REPRODUCED
    assert rows[("Net", "Accuracy")]["status"] == T.BY_CONSTRUCTION and rows[("Net", "Accuracy")]["seeds"] == "3"
    assert rows[("Net", "#Parameters")]["status"] == T.PENDING and "truncated" in rows[("Net", "#Parameters")]["rule"]
    md = open(outs["md"]).read()
    assert "Seeds behind each number: 3 seeds (0, 1, 2); numbers are means ± std over them" in md
    assert "Device: NVIDIA H200" in md and "matches by construction (fitted: studies.x.depth)" in md


def test_paper_scale_with_stand_in_inputs_says_so(tmp_path):
    """A paper table whose inputs are still stand-ins is not stamped 'the thesis's settings'."""
    tv = tmp_path / "tv.csv"
    tv.write_text(THESIS_CLAIMS)
    res = _write(tmp_path, "r.json", {"item": "table_9_9", "scale": "paper",
                                      "stand_in": "kernels of a small CNN stand in for the WideResNet", "cells": [
        {"row": "Net", "column": "Ratio", "value": 9.5}, {"row": "setup", "column": "kernels", "value": 20}]})
    cells, meta = T.collect("table_9_9", [res], {"default": {}}, thesis_csv=tv)
    by = {(c.row, c.column): c for c in cells}
    assert by[("Net", "Ratio")].status == T.STAND_IN and "small CNN" in by[("Net", "Ratio")].reason
    assert by[("setup", "kernels")].status == T.SETTING
    md = T.to_markdown(cells, meta, "cap")
    assert "NOT the thesis's setting" in md and "Scale: paper (the thesis's settings)" not in md
    assert "Stand-in data: kernels of a small CNN" in md


def test_paper_scale_with_changed_settings_says_so(tmp_path):
    res = _write(tmp_path, "r.json", {"item": "table_D_1", "scale": "paper", "cells": []})
    cells, meta = T.collect("table_D_1", [res], {"default": {}})
    meta["scale_deviations"] = ["studies.table_D_1.datasets"]
    md = T.to_markdown(cells, meta, "cap")
    assert "Scale: paper, but NOT the thesis's settings (1 key(s) differ from config/paper.yaml: " \
           "studies.table_D_1.datasets)" in md


def test_another_items_numbers_are_not_shown_as_extras(tmp_path):
    """Figure 4.6 renders Table 4.5's result: only the cells that answer Figure 4.6's claims appear."""
    res = _write(tmp_path, "t45.json", {"item": "table_4_5", "scale": "paper", "cells": [
        {"row": "DC (3 layers)", "column": "Accuracy", "value": 0.79},
        {"row": "DC + scattering", "column": "accuracy (lower bound stated)", "value": 79.0}]})
    cells, _ = T.collect("fig_4_6", [res], {"default": {}})
    assert [(c.row, c.column, c.status) for c in cells] == [
        ("DC + scattering", "accuracy (lower bound stated)", T.REPRODUCED)]
    own, _ = T.collect("table_4_5", [res], {"default": {}})
    assert ("DC (3 layers)", "Accuracy") in {(c.row, c.column) for c in own}
