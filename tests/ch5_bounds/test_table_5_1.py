"""Table 5.1: ratio to σ1 and time of one-layer estimates. Bookkeeping, kernel selection from the kernel
CNN, one column against dense SVDs, the thesis's labels, the kernel CNN as a trained run of the DAG (its
weights and accuracy evaluation), and the targets in the dry-run DAG."""

import math

import pytest
import torch

from conftest import ROOT, run_snakemake
from dense_conv import dense_sigma1
from toeplitznet.config import load_config
from toeplitznet.items.ch5_bounds import table_5_1
from toeplitznet.models.kernel_cnn import KernelCNN
from toeplitznet.plan import build_plan
from toeplitznet.reference import thesis_cells

SMOKE = load_config(ROOT / "config/config.yaml")
PAPER = load_config(ROOT / "config/paper.yaml", check_paths=False)


def test_ratio_and_time_bookkeeping():
    st = table_5_1.ratio_stats([2.0, 3.0, 4.5], [1.0, 2.0, 3.0])
    assert st["ratios"] == [2.0, 1.5, 1.5]
    assert st["mean"] == pytest.approx(5 / 3)
    assert st["std"] == pytest.approx(math.sqrt(((1 / 3) ** 2 + 2 * (1 / 6) ** 2) / 2))
    ts = table_5_1.time_stats([1.0, 3.0])
    assert ts["mean"] == 2.0 and ts["std"] == pytest.approx(math.sqrt(2.0)) and ts["n"] == 2
    assert table_5_1.time_stats([4.0])["std"] == 0.0


def test_select_kernels_and_cnn_parameter_names():
    model = KernelCNN(3, [8, 6], 10, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
    assert model(torch.rand(2, 3, 16, 16)).shape == (2, 10)
    state = model.state_dict()
    ks = table_5_1.select_kernels(state, "conv2.weight", 8, 5)
    assert len(ks) == 5 and ks[0].shape == (1, 8, 3, 3)
    assert torch.equal(ks[3][0], state["conv2.weight"][3])
    k1 = table_5_1.select_kernels(state, "conv1.weight", 1, 4)
    assert k1[2].shape == (1, 1, 3, 3) and torch.equal(k1[2][0, 0], state["conv1.weight"][2, 0])
    with pytest.raises(KeyError, match="conv1.weight"):
        table_5_1.select_kernels(state, "conv9.weight", 1, 1)
    with pytest.raises(ValueError):
        table_5_1.select_kernels(state, "conv2.weight", 8, 7)


def test_load_state_dict_reads_plain_and_trainer_files(tmp_path):
    model = KernelCNN(1, [4], 10, (0.5,), (0.25,))
    torch.save(model.state_dict(), tmp_path / "plain.pt")
    torch.save({"model": model.state_dict(), "step": 3}, tmp_path / "ckpt.pt")
    for f in ("plain.pt", "ckpt.pt"):
        assert torch.equal(table_5_1.load_state_dict(tmp_path / f)["conv1.weight"], model.conv1.weight)


def test_evaluate_column_against_dense_svd():
    p = {"input_size": 6, "padding": 1, "lipbound_samples": 10, "power_iterations": 10, "gram_iterations": 6,
         "singla_variant": "min2", "arpack_tol": 1e-12, "warmup": 0, "repeats": 1}
    gen = torch.Generator().manual_seed(0)
    kernels = [torch.randn(1, 2, 3, 3, generator=gen, dtype=torch.float64) for _ in range(3)]
    res = table_5_1.evaluate_column(kernels, p, torch.device("cpu"), seed=0)
    dense = [dense_sigma1(k.numpy(), 6, 1) for k in kernels]
    assert res["exact"]["values"] == pytest.approx(dense, rel=1e-9)
    for key in table_5_1.METHOD_ROWS:
        if key == "exact":
            continue
        r = res[key]["ratio"]
        assert r["ratios"] == pytest.approx([v / e for v, e in zip(res[key]["values"], dense)], rel=1e-9)
        assert res[key]["time_ms"]["n"] == 3
    # bound directions: upper bounds >= 1, the power method's lower estimate <= 1
    for key in ("singla", "lipbound_certified", "gram"):
        assert min(res[key]["ratio"]["ratios"]) >= 1 - 1e-9, key
    assert max(res["power"]["ratio"]["ratios"]) <= 1 + 1e-9


def test_labels_are_the_thesis_cells():
    keys = {(c.row, c.column) for c in thesis_cells("table_5_1")}
    for key in ("sedghi", "singla", "power", "lipbound"):
        for col in ("1x3x3", "32x3x3"):
            for what in ("Ratio", "Time (ms)"):
                assert (table_5_1.METHOD_ROWS[key], f"{col} {what}") in keys
    assert ("setup", "number of kernels averaged") in keys
    # the configured columns are the thesis's
    for cfg in (SMOKE, PAPER):
        assert [c["label"] for c in cfg["studies"]["table_5_1"]["columns"]] == ["1x3x3", "32x3x3"]
        assert cfg["studies"]["table_5_1"]["n_kernels"] == 20


def test_paper_kernels_come_from_the_at_wide_resnet():
    """At paper scale the kernels are those of the CIFAR-10 Wide ResNet trained with AT (Section 5.5)."""
    assert PAPER["studies"]["table_5_1"]["checkpoint"] == "run:ch5_cifar10_at"
    assert table_5_1.kernel_run(PAPER) is None
    spec = table_5_1.planned_run(PAPER)
    assert spec["id"] == "ch5_cifar10_at" and spec["model"]["family"] == "wide_resnet"
    plan = build_plan(PAPER)
    assert "table_5_1" in plan.runs["ch5_cifar10_at"].items and "table_5_3" in plan.runs["ch5_cifar10_at"].items
    ins = plan.studies["table_5_1"].inputs
    assert ins["model"] == "results/paper/runs/ch5_cifar10_at/model.pt"
    assert ins["accuracy"] == "results/paper/runs/ch5_cifar10_at/eval/natural.json"
    from toeplitznet.models import build_model

    state = build_model(spec["model"]).state_dict()
    for col in PAPER["studies"]["table_5_1"]["columns"]:
        w = state[col["parameter"]]
        assert w.shape[1] >= col["in_channels"] and w.shape[0] >= 20 and tuple(w.shape[2:]) == (3, 3)
    import copy

    bad = copy.deepcopy(PAPER)
    bad["studies"]["table_5_1"]["checkpoint"] = "run:ch5_cifar10_nope"
    with pytest.raises(ValueError, match="no Section 5.5 run 'ch5_cifar10_nope'"):
        table_5_1.planned_run(bad)


@pytest.mark.parametrize("cfg", [SMOKE], ids=["smoke"])
def test_kernel_cnn_is_a_trained_run_of_the_dag(cfg):
    spec = table_5_1.kernel_run(cfg)
    p = cfg["studies"]["table_5_1"]
    rid = f"table_5_1_{p['dataset']}_kernel_cnn_c32x32"
    assert spec["id"] == rid and spec["model"]["family"] == "kernel_cnn"
    assert spec["model"]["channels"] == p["model"]["channels"] and spec["train"]["max_steps"] == p["train"]["steps"]
    plan = build_plan(cfg)
    run = plan.runs[rid]
    assert run.items == ["table_5_1"] and run.inputs == {"manifest": f"data/{p['dataset']}/MANIFEST.json"}
    assert run.gpu == cfg["resources"]["gpu"]
    ev = plan.evals[(rid, "accuracy")]
    assert ev.cfg["study"]["evaluation"] == {"kind": "accuracy", "batch_size": 500, "id": "accuracy"}
    assert ev.inputs["model"] == run.outputs["model"]
    res = f"results/{cfg['scale']}/runs/{rid}"
    assert plan.studies["table_5_1"].inputs == {"model": f"{res}/model.pt", "training": f"{res}/metrics.json",
                                                "accuracy": f"{res}/eval/accuracy.json"}
    # the built model has the parameters the columns name
    from toeplitznet.models import build_model

    state = build_model(spec["model"]).state_dict()
    for col in p["columns"]:
        assert state[col["parameter"]].shape[1] >= col["in_channels"]
        assert state[col["parameter"]].shape[0] >= p["n_kernels"]


def test_a_checkpoint_replaces_the_kernel_cnn():
    import copy

    cfg = copy.deepcopy(SMOKE)
    cfg["studies"]["table_5_1"]["checkpoint"] = "weights/wrn.pt"
    assert table_5_1.kernel_run(cfg) is None
    plan = build_plan(cfg)
    assert plan.studies["table_5_1"].inputs == {"model": "weights/wrn.pt"}
    assert not any("table_5_1" in r.items for r in plan.runs.values())
    assert not any(rid.startswith("table_5_1") for rid, _ in plan.evals)


def test_targets_in_dry_run_dag(repo_copy):
    targets = ["paper_tables/smoke/table_5_1.md"]
    out = run_snakemake(repo_copy, "-n", *targets).stdout
    for rule in ("train_run", "evaluate_run", "study_table_5_1", "render_table", "download"):
        assert rule in out, rule
    assert "train_table_5_1_cnn" not in out and "run_study" not in out
    paper = run_snakemake(repo_copy, "-n", "--profile", "profiles/paper", "paper_tables/paper/table_5_1.md")
    assert "train_run" in paper.stdout and "data/cifar10/MANIFEST.json" in paper.stdout
    assert "results/paper/runs/ch5_cifar10_at/model.pt" in paper.stdout
