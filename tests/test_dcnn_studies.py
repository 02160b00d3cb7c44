"""Chapter 4 studies: run-spec expansion, aggregation on hand-made metrics, parameter counts of the paper
architectures against the thesis, and the targets of the DAG. Fast (no training beyond a few steps)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from conftest import ROOT, run_snakemake
from toeplitznet.config import load_config
from toeplitznet.studies import ch4_runs

SMOKE = load_config(ROOT / "config/config.yaml")
PAPER = load_config(ROOT / "config/paper.yaml", check_paths=False)
CH4_ITEMS = ["fig_4_2", "ecai_fig_2a", "fig_4_3", "fig_4_4", "fig_4_5", "fig_4_6", "table_4_1", "table_4_2",
             "table_4_5"]
TARGETS = [f"figures/{i}.pdf" for i in CH4_ITEMS if i.startswith(("fig", "ecai"))] + \
          [f"paper_tables/{i}.md" for i in CH4_ITEMS if i.startswith("table")]


def _ref(name):
    with open(ROOT / "reference/figure_data" / name, newline="") as fh:
        return list(csv.DictReader(fh))


# ------------------------------------------------------------------------------------- expansion
def test_expansion_is_pure_python():
    code = ("import sys; import toeplitznet.studies.ch4_runs as m; "
            "assert 'torch' not in sys.modules, 'ch4_runs imports torch'; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""})
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr


@pytest.mark.parametrize("cfg", [SMOKE, PAPER], ids=["smoke", "paper"])
def test_runs_deduplicated_and_stable(cfg):
    runs = ch4_runs.expand_runs(cfg)
    assert runs == ch4_runs.expand_runs(cfg)  # same config -> same ids and specs, same order
    assert list(runs) == list(ch4_runs.expand_runs(cfg))
    per_item = {i: ch4_runs.item_runs(cfg, i) for i in ch4_runs.TRAINING_ITEMS}
    # every run id is a valid identifier (Snakemake input names) and used by some item
    assert all(r.isidentifier() for r in runs)
    assert set(runs) == {r for ids in per_item.values() for r in ids}
    # the slope-0.5 DCNNs of Table 4.1 are points of Figures 4.2 and 4.5: one run each
    shared = set(per_item["table_4_1"]) & set(per_item["fig_4_2"]) & set(per_item["fig_4_5"])
    assert "cifar10_dcnn_d2_lrelu0p5" in shared
    assert sum(len(v) for v in per_item.values()) > len(runs)
    # Figure 4.6 draws the runs of Table 4.5
    assert ch4_runs.item_runs(cfg, "fig_4_6") == per_item["table_4_5"]


def test_ids_and_canonical_linear_runs():
    assert ch4_runs.run_id("cifar10", ch4_runs._mlp("dcnn", 2, "leaky_relu", 0.5)) == "cifar10_dcnn_d2_lrelu0p5"
    assert ch4_runs.run_id("cifar10", ch4_runs._mlp("dcnn", 6, "relu", relu_every=3)) == "cifar10_dcnn_d6_relu_every3"
    # no activation at all when the ReLU period exceeds the depth: one linear run for every such period
    a = ch4_runs._mlp("dcnn", 2, "relu", relu_every=3)
    b = ch4_runs._mlp("dcnn", 2, "relu", relu_every=5)
    assert a == b and a["activation"] == "identity"
    assert ch4_runs.run_id("cifar10", a) == "cifar10_dcnn_d2_linear"
    cfg = json.loads(json.dumps(SMOKE))
    cfg["studies"]["ecai_fig_2a"]["depths"] = [1, 2]
    ids = ch4_runs.item_runs(cfg, "ecai_fig_2a")
    # k=1: d1, d2; k=2: d1 (linear), d2; k=3: d1 (the same linear run), d2 (linear)
    assert ids == ["cifar10_dcnn_d1_relu", "cifar10_dcnn_d2_relu", "cifar10_dcnn_d1_linear",
                   "cifar10_dcnn_d2_relu_every2", "cifar10_dcnn_d2_linear"]


def test_job_config_and_checkpoint_dir():
    runs = ch4_runs.expand_runs(SMOKE)
    rid = "cifar10_dcnn_d2_lrelu0p5"
    job = ch4_runs.job_config(SMOKE, rid, runs)
    s = job["study"]
    assert s["data"]["source"] == "fashion_mnist" and s["model"]["input_shape"] == [1, 28, 28]
    assert s["checkpoint_dir"].startswith(f"{SMOKE['paths']['checkpoints']}/smoke/ch4/{rid}-")
    changed = json.loads(json.dumps(SMOKE))
    changed["studies"]["ch4_train"]["epochs"] += 1
    assert ch4_runs.job_config(changed, rid)["study"]["checkpoint_dir"] != s["checkpoint_dir"]
    paper = ch4_runs.job_config(PAPER, rid)["study"]
    assert paper["data"]["source"] == "cifar10" and paper["model"]["input_shape"] == [3, 32, 32]
    with pytest.raises(ValueError, match="lr_values"):
        bad = json.loads(json.dumps(SMOKE))
        bad["studies"]["ch4_train"]["lr_values"] = [1e-3]
        ch4_runs.check_config(bad)


# ------------------------------------------------------------------------- paper grids = thesis
def test_paper_training_settings_are_S1():
    from toeplitznet.train import TrainConfig, schedule_report, thesis_preset

    t = ch4_runs.train_settings(PAPER)
    s1 = thesis_preset("ch4_cifar10")
    for key in ("optimizer", "lr", "epochs", "batch_size", "schedule"):
        assert t[key] == s1[key], key
    assert PAPER["studies"]["ch4_train"]["train_subset"] is None
    # 200 epochs x 250 steps = 50K steps: only the 40K boundary is ever reached
    rep = schedule_report(TrainConfig.from_dict(t), steps_per_epoch=50_000 // 200)
    assert rep["reached"] == [40_000] and rep["not_reached"] == [60_000, 80_000]


def test_paper_grids_match_thesis():
    st = PAPER["studies"]
    ref42 = _ref("fig4_2_dcnn_cifar10_leaky_relu_slope.csv")
    assert sorted(st["fig_4_2"]["slopes"]) == sorted({float(r["leaky_relu_slope"]) for r in ref42})
    assert set(st["fig_4_2"]["depths"]) >= {int(r["x"]) for r in ref42 if r["leaky_relu_slope"] != "0.2"}
    f45 = st["fig_4_5"]
    assert min(f45["dcnn_depths"]) >= 1 and max(f45["dcnn_depths"]) == 40          # "depth from 1 to 40"
    assert max(f45["toeplitz_depths"]) == 40 and max(f45["dtnn_depths"]) == 30     # DTNN "from 1 to 30"
    assert min(f45["dtnn_depths"]) == 1
    assert 7 in f45["lowrank_ranks"] and max(f45["lowrank_ranks"]) == 40            # "rank from 7 to 40"
    assert f45["slope"] == 0.5 and st["table_4_1"]["slope"] == 0.5                  # ECAI E191
    assert set(st["ecai_fig_2a"]["relu_every"]) == {1, 2, 3}
    assert sorted(st["table_4_1"]["dcnn_depths"]) == [2, 5]
    assert st["table_4_1"]["ldr_td_ranks"] == st["table_4_1"]["toeplitz_like_ranks"] == [2, 3]
    assert st["table_4_5"]["dc_depths"] == [1, 3]
    assert st["table_4_5"]["ldr_sd_ranks"] == st["table_4_5"]["toeplitz_like_ranks"] == [1, 10]
    assert (st["table_4_5"]["J"], st["table_4_5"]["L"]) == (2, 8)
    assert st["fig_4_3"]["noise_var"] == 0.01
    # Figure 4.3 needs no dataset: the same setting at both scales
    assert SMOKE["studies"]["fig_4_3"] == st["fig_4_3"]


def test_rows_cover_the_thesis_tables():
    from toeplitznet.reference import thesis_cells

    for cfg in (SMOKE, PAPER):
        for item in ("table_4_1", "table_4_2", "table_4_5"):
            runs = ch4_runs.expand_item(cfg, item)
            rows = {ch4_runs.row_label(item, s["labels"]) for s in runs.values()}
            thesis_rows = {c.row for c in thesis_cells(item) if not c.cited and c.column in ("Accuracy", "Error (%)")}
            assert rows == thesis_rows, item


# ------------------------------------------------------------------ aggregation (hand-made metrics)
def _metrics(labels, acc, n, status="finished", history=None):
    return {"run_id": ch4_runs.run_id("cifar10", labels), "labels": labels, "status": status, "n_params": n,
            "final_eval": {"test": {"accuracy": acc}} if acc is not None else {}, "history": history or [],
            "schedule_boundaries_reached": [], "schedule_boundaries_not_reached": [40000, 60000, 80000],
            "steps": 90, "stand_in": "X stands in for Y", "_source": "x.json"}


def test_table_cells_and_units():
    runs = [_metrics(ch4_runs._mlp("dense", 1, "leaky_relu", 0.5), 0.5, 9_470_986),
            _metrics(ch4_runs._mlp("dcnn", 2, "leaky_relu", 0.5), 0.536, 21_524),
            _metrics({"family": "ldr_net", "kind": "tridiagonal", "rank": 2, "activation": "relu", "slope": None}, None, 64_522, status="diverged")]
    cells = {(c["row"], c["column"]): c["value"] for c in ch4_runs.table_cells("table_4_1", runs)}
    assert cells[("Dense", "#Parameters")] == pytest.approx(9.470986)               # M
    assert cells[("DCNN (2 layers)", "#Parameters")] == pytest.approx(21.524)        # K
    assert cells[("DCNN (2 layers)", "Accuracy")] == 0.536
    assert cells[("LDR-TD (r = 2)", "Accuracy")] is None                             # diverged
    assert ch4_runs.weight_reduction(runs) == pytest.approx(64_522 / 21_524)
    mn = [_metrics(ch4_runs._mlp("dcnn", 8, "leaky_relu", 0.5, width=1024), 0.9826, 25_620)]
    cells = {(c["row"], c["column"]): c["value"] for c in ch4_runs.table_cells("table_4_2", mn)}
    assert cells[("DCNN", "Error (%)")] == pytest.approx(1.74) and cells[("DCNN", "#Params")] == pytest.approx(25.62)


def test_figure_aggregation():
    from toeplitznet.studies import ecai_fig_2a, fig_4_2, fig_4_5

    runs = [_metrics(ch4_runs._mlp("dcnn", d, "leaky_relu", s), a, 1000 * d)
            for (d, s, a) in [(4, 0.2, None), (2, 0.2, 0.5), (2, 0.5, 0.52), (4, 0.5, 0.55)]]
    ser = fig_4_2.series(runs)
    assert [s["slope"] for s in ser] == [0.2, 0.5]
    assert ser[0]["depth"] == [2, 4] and ser[0]["accuracy"] == [0.5, 0.1] and ser[0]["diverged"] == [False, True]
    assert ch4_runs.best_run(runs)["labels"]["depth"] == 4
    lin = _metrics(ch4_runs._mlp("dcnn", 2, "relu", relu_every=3), 0.4, 2)
    relu = [_metrics(ch4_runs._mlp("dcnn", d, "relu", relu_every=k), 0.45, d) for d in (2, 4) for k in (1, 3)
            if not (d == 2 and k == 3)]
    ser = {s["relu_every"]: s for s in ecai_fig_2a.series(relu + [lin])}
    assert ser[3]["depth"] == [2, 4] and ser[1]["depth"] == [2, 4]  # the linear depth-2 run stands for k = 3
    f45 = [_metrics(ch4_runs._mlp("dense", 1, "leaky_relu", 0.5), 0.56, 9_470_986),
           _metrics(ch4_runs._mlp("dcnn", 20, "leaky_relu", 0.5), 0.56, 187_412),
           _metrics(ch4_runs._mlp("dcnn", 2, "leaky_relu", 0.5), 0.53, 21_524),
           _metrics(ch4_runs._mlp("lowrank", 1, "leaky_relu", 0.5, rank=7), 0.3, 67_664)]
    cells = {(c["row"], c["column"]): c["value"] for c in ch4_runs.fig_4_5_cells(f45)}
    assert cells[("DCNN", "depth at max accuracy")] == 20 and cells[("DCNN", "max accuracy")] == pytest.approx(56)
    assert cells[("all", "#weights range (min)")] == pytest.approx(21.524)
    assert cells[("DCNN", "#weights at max as % of dense")] == pytest.approx(100 * 187_412 / 9_470_986)
    res = fig_4_5.series(f45)
    assert res["dense"]["n_weights"] == 9_470_986 and [f["family"] for f in res["families"]] == ["dcnn", "lowrank"]
    hist = [{"epoch": 1, "train": {"loss": 2.0}, "eval": {"test": {"accuracy": 0.3}}},
            {"epoch": 2, "train": {"loss": 1.5}}]
    assert ch4_runs.curves({"history": hist}) == {"epoch": [1, 2], "train_loss": [2.0, 1.5], "test_accuracy": [0.3, None]}
    assert "60000" in ch4_runs.schedule_note(runs).replace(",", "").replace(" ", "")


# ------------------------------------------------------------- parameter counts vs the thesis
def _count(spec, **kw):
    from toeplitznet.models import build_model, count_parameters

    return count_parameters(build_model(spec), **kw)


def test_paper_architecture_counts_flattened_cifar():
    arch = ch4_runs.paper_architectures(PAPER, ["table_4_1", "fig_4_2", "fig_4_5", "table_4_2"])
    counts = {}
    for runs in arch.values():
        for rid, spec in runs.items():
            if spec["labels"]["family"] != "dense":
                counts.setdefault(rid, _count(spec["model"]))
    # DCNN: (3L + 1) n + 20 = the n_weights of the thesis's own Figure 4.2 data
    for r in _ref("fig4_2_dcnn_cifar10_leaky_relu_slope.csv"):
        rid = f"cifar10_dcnn_d{r['x']}_lrelu{r['leaky_relu_slope'].replace('.', 'p')}"
        if rid in counts:
            assert counts[rid] == int(r["n_weights"]), rid
    assert counts["cifar10_dcnn_d2_lrelu0p5"] == 21_524 and counts["cifar10_dcnn_d5_lrelu0p5"] == 49_172
    # INVENTORY section 8's (3L+1)n leaves out the sliced output layer's 10 diagonal + 10 bias entries
    for depth, inv in ((2, 21_504), (5, 49_152)):
        spec = {"family": "dcnn", "depth": depth, "n_in": 3072, "last_layer": "circulant"}
        assert _count(spec) == inv
    # LDR rows of Table 4.1 (one LDR layer + dense layer): 64K, 70K, 46K, 52K
    assert counts["cifar10_ldrnet_tridiagonal_r2_relu"] == 64_522
    assert counts["cifar10_ldrnet_tridiagonal_r3_relu"] == 70_666
    assert counts["cifar10_ldrnet_toeplitz_r2_relu"] == 46_090
    assert counts["cifar10_ldrnet_toeplitz_r3_relu"] == 52_234
    # Table 4.2 / ECAI Table 3: exactly 25 620 weights
    assert counts["mnist_dcnn_d8_w1024_lrelu0p5"] == 25_620
    # Figure 4.5 / INVENTORY section 8: Toeplitz 3n-1 per layer (40 layers: 368 600), DTNN 4n-1 (30: 368 610)
    n = 3072
    head = {"depth": 0, "n_in": n, "slice_square": True}
    assert counts["cifar10_toeplitz_d40_lrelu0p5"] - _count({"family": "toeplitz", **head}) == 368_600
    assert counts["cifar10_dtnn_d30_lrelu0p5"] - _count({"family": "dtnn", **head}) == 368_610
    # dense baseline: 3072 x 3072 + head = 9.47M ("9.4M"), computed without building it
    assert n * n + n + 10 * n + 10 == 9_470_986


def test_paper_architecture_counts_match_figure_4_5_x_values():
    """Every structured point of the thesis's Figure 4.5 data: our count at its depth (rank), in thousands and
    truncated, equals the x value. Toeplitz / DTNN need the square-sliced output layer (2n - 1 diagonals)."""
    arch = ch4_runs.paper_architectures(PAPER, ["fig_4_5"])["fig_4_5"]
    ours: dict[str, dict[int, int]] = {}
    for spec in arch.values():
        lab = spec["labels"]
        if lab["family"] != "dense":
            key = lab["rank"] if lab["family"] == "lowrank" else lab["depth"]
            ours.setdefault(lab["family"], {})[key] = _count(spec["model"])
    ref = _ref("fig4_5_cifar10_structured_networks_size_vs_accuracy.csv")
    series = {"circulant": ("dcnn", [2, 5, 10, 20, 30, 40]), "diag_toeplitz": ("dtnn", [1, 3, 5, 10, 15, 20, 23, 30]),
              "toeplitz": ("toeplitz", [2, 5, 10, 20, 30, 40]), "low_rank": ("lowrank", [2, 5, 10, 20, 30, 40])}
    for name, (fam, keys) in series.items():
        xs = sorted(int(float(r["x"])) for r in ref if r["series"] == name)
        assert [ours[fam][k] // 1000 for k in keys] == xs, name
    n = 3072   # by hand: 2 square Toeplitz layers (3n - 1 each) + square Toeplitz sliced to 10 rows + 10 biases
    assert ours["toeplitz"][2] == 2 * (3 * n - 1) + (2 * n - 1) + 10 == 24_583
    assert ours["dtnn"][1] == (4 * n - 1) + (2 * n - 1) + 10 + 10 == 18_450
    # the other reading (studies.ch4_train.toeplitz_output: rectangular): a 3072 -> 10 Toeplitz output layer
    cfg = json.loads(json.dumps(PAPER))
    cfg["studies"]["ch4_train"]["toeplitz_output"] = "rectangular"
    rect = ch4_runs.paper_architectures(cfg, ["fig_4_5"])["fig_4_5"]["cifar10_toeplitz_d2_lrelu0p5"]
    assert _count(rect["model"]) == 2 * (3 * n - 1) + (n + 10 - 1) + 10 == ours["toeplitz"][2] - (n - 10)


def test_paper_architecture_counts_scattering():
    pytest.importorskip("kymatio")
    arch = ch4_runs.paper_architectures(PAPER, ["table_4_5"])["table_4_5"]
    got = {}
    for rid, spec in arch.items():
        row = ch4_runs.row_label("table_4_5", spec["labels"])
        got[row] = _count(spec["model"], include_bn_stats=True)
        if spec["labels"]["head"] == "dc":  # INVENTORY section 8 reading: 124 416 / 217 728
            inv = _count(dict(spec["model"], trim_unused=False))
            assert inv == {"DC (1 layers)": 124_416, "DC (3 layers)": 217_728}[row]
    assert got == {"DC (1 layers)": 124_436, "DC (3 layers)": 217_748, "LDR-SD (r = 1)": 139_968,
                   "LDR-SD (r = 10)": 419_904, "Toeplitz-like (r = 1)": 108_864, "Toeplitz-like (r = 10)": 388_800}
    thesis_k = {"DC (1 layers)": 124, "DC (3 layers)": 217, "LDR-SD (r = 1)": 140, "LDR-SD (r = 10)": 420,
                "Toeplitz-like (r = 1)": 110, "Toeplitz-like (r = 10)": 388}
    for row, c in got.items():  # within the render tolerance (5%) of the printed count
        assert abs(c / 1e3 - thesis_k[row]) <= 0.05 * thesis_k[row], row


# --------------------------------------------------------------------------- studies and DAG
def test_fig_4_3_runs_small(tmp_path):
    from toeplitznet.studies.runner import run_from_cli

    cfg = json.loads(json.dumps(SMOKE))
    cfg["studies"]["fig_4_3"].update(steps=20, log_every=10, n_samples=200, check_acdc_depths=[3])
    ctx = run_from_cli("fig_4_3", cfg, tmp_path)
    res = json.loads((tmp_path / "fig_4_3.json").read_text())
    assert res["scale_independent"] and res["step"] == [10, 20]
    assert set(res["loss"]) == {"DCNN, 2 layers", "ACDC, 2 layers", "ACDC, 4 layers",
                                "ACDC, 3 layers (check, not in thesis)"}
    assert res["n_weights"]["ACDC, 3 layers (check, not in thesis)"] == 3 * (3 * 32)   # A, D, bias per layer
    # initial loss ~ 0.5 * n * n/9 (+ the network's output), the thesis's ~60 for n = 32
    assert 50 < res["initial_full_loss"]["ACDC, 2 layers"] < 75
    assert ctx.outputs["result"].endswith("fig_4_3.json")


def _job_counts(stdout):
    counts = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    return counts


def test_targets_in_dry_run_dag():
    smoke = _job_counts(run_snakemake(ROOT, "-n", "--forceall", *TARGETS).stdout)
    for rule in ("ch4_scattering", "param_counts_ch4", "run_study", "render_figure", "render_table"):
        assert smoke.get(rule), rule
    # one training job per distinct run: runs shared between items are trained once
    assert smoke["train_ch4"] == len(ch4_runs.expand_runs(SMOKE))
    assert smoke["render_figure"] == 6 and smoke["render_table"] == 3
    paper = _job_counts(run_snakemake(ROOT, "-n", "--forceall", "--profile", "profiles/paper", *TARGETS).stdout)
    assert paper["train_ch4"] == len(ch4_runs.expand_runs(PAPER)) > smoke["train_ch4"]
