"""Table 5.4: ImageNet settings against the thesis text (S8, L6259-6273), the two AT+LipReg rows (C2 = 0.0006,
0.0010), the column mapping, and the clear message when ImageNet's folder is not given."""
import pytest

from robust_helpers import PAPER, write_inputs
from toeplitznet.items.ch5_robust import _report as R, _runs, table_5_4
from toeplitznet.reference import thesis_cells


def test_paper_settings_are_the_thesis_text():
    t = PAPER["studies"]["ch5_robust_train"]["train"]["imagenet"]
    assert t["model"] == {"family": "resnet101"}
    assert (t["epochs"], t["batch_size"], t["momentum"], t["weight_decay"]) == (80, 4096, 0.9, 0.0001)
    assert (t["label_smoothing"], t["ema_decay"], t["milestones"]) == (0.1, 0.999, [30, 60])
    assert t["attack"]["steps"] == 5 and t["attack"]["eps"] == pytest.approx(8 / 255)
    e = PAPER["studies"]["ch5_robust_train"]["eval"]["imagenet"]
    assert e["pgd_linf"]["eps"] == [0.02, 0.031] and e["pgd_linf"]["steps"] == 30
    assert e["pgd_linf"]["restarts"] == 5 and e["cw_l2"]["bounds"] == [1.0, 2.0, 3.0]


def test_rows_and_columns_match_the_thesis():
    runs = _runs.specs(PAPER, ["imagenet"])
    rows = {table_5_4.row_label(s["labels"]) for s in runs.values()}
    thesis_rows = {c.row for c in thesis_cells("table_5_4")}
    assert rows == thesis_rows
    cols = {c.column for c in thesis_cells("table_5_4")}
    assert set(table_5_4.PGD_COLUMNS) <= cols and {"C&W-l2 1.00", "C&W-l2 2.00", "C&W-l2 3.00", "Natural"} <= cols
    # the attacked images: a seeded 10,000-image subset of the validation set (held in memory)
    assert all(s["data"]["test_subset"] == _runs.IMAGENET_EVAL_IMAGES for s in runs.values())


def test_cells_map_the_two_eps_to_the_thesis_columns(tmp_path):
    lab = {"dataset": "imagenet", "arm": "baseline", "c2": None, "row": "Baseline"}
    evals = {"pgd_linf_0p02": {"kind": "pgd", "eps": 0.02}, "pgd_linf_0p031": {"kind": "pgd", "eps": 0.031},
             "cw_l2": {"kind": "cw_l2", "bounds": [1.0, 2.0, 3.0]}}
    ins = write_inputs(tmp_path, {"ch5_imagenet_baseline": lab}, {
        "ch5_imagenet_baseline__eval__pgd_linf_0p02": {"accuracy": 0.3},
        "ch5_imagenet_baseline__eval__pgd_linf_0p031": {"accuracy": 0.1},
        "ch5_imagenet_baseline__eval__cw_l2": {"accuracy_at": {"1": 0.3, "2": 0.2, "3": 0.1}}})
    cells = {(c["row"], c["column"]): c["value"]
             for c in table_5_4.cells_of(R.Collected(ins), {"ch5_imagenet_baseline": evals})}
    row = "Baseline (He et al. 2016)"
    assert cells[(row, "PGD-linf 0.02")] == 0.3 and cells[(row, "PGD-linf 0.031")] == 0.1
    assert cells[(row, "C&W-l2 2.00")] == 0.2


def test_imagenet_without_its_folder_fails_clearly(tmp_path):
    from toeplitznet.data.errors import imagenet_root_unset

    msg = str(imagenet_root_unset())
    assert "data.imagenet_root" in msg
