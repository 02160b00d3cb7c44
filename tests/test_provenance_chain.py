"""Provenance a sceptic can trust (issue 9), each check in a temporary copy of a finished (tiny) smoke run:
the transitive audit catches tampering anywhere on the chain, naming the file and the cells it feeds; code
changes rerun exactly what they affect; the scale is enforced; --config overrides are parsed like YAML."""
import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_snakemake, snakemake_env

pytestmark = pytest.mark.slow

RUN = "results/smoke/runs/cifar10_dcnn_d2_lrelu0p5"


@pytest.fixture
def done(tiny_run, tmp_path):
    """A private copy of the finished tiny smoke run (the session's run stays untouched)."""
    assert tiny_run.ok, tiny_run.log_tail()
    dst = tmp_path / "repo"
    shutil.copytree(tiny_run.root, dst, symlinks=True, ignore=shutil.ignore_patterns(".snakemake"))
    # keep Snakemake's metadata (what was run with which params and code) but not its locks
    shutil.copytree(tiny_run.root / ".snakemake", dst / ".snakemake", symlinks=True,
                    ignore=shutil.ignore_patterns("locks", "incomplete", "tmp*"))
    return dst


def audit(root, *args):
    return subprocess.run([sys.executable, "-m", "toeplitznet.cli", "audit", "--scale", "smoke", *args], cwd=root,
                          capture_output=True, text=True, env=snakemake_env(root))


def dry_jobs(root, *args):
    """``{rule: count}`` of a Snakemake dry run (empty when nothing is to be done)."""
    proc = run_snakemake(root, "-n", *args)
    out = proc.stdout + proc.stderr
    if "Job stats:" not in out:
        assert "Nothing to be done" in out, out[-3000:]
        return {}
    lines = out[out.index("Job stats:"):].splitlines()[3:]
    stats = lines[:next(i for i, ln in enumerate(lines) if ln.startswith("total"))]
    return {ln.split()[0]: int(ln.split()[1]) for ln in stats if len(ln.split()) == 2}


def test_untouched_run_passes(done):
    proc = audit(done)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "AUDIT OK" in proc.stdout


def test_edited_run_metrics_rerendered_are_caught_one_level_down(done):
    m = done / RUN / "metrics.json"
    doc = json.loads(m.read_text())
    doc["final_eval"]["test"]["accuracy"] = 0.95
    m.write_text(json.dumps(doc))
    run_snakemake(done)  # re-renders Table 4.1 and the figures with 0.95
    proc = audit(done)
    assert proc.returncode == 1
    assert f"{RUN}/metrics.json differs from what its job wrote" in proc.stdout
    # named with the cells of the table file it reached (Table 4.1's study result feeds all its cells)
    line = next(ln for ln in proc.stdout.splitlines() if f"table_4_1: {RUN}/metrics.json differs" in ln)
    assert "feeds cell(s)" in line and "[DCNN (2 layers) / Accuracy]" in line


@pytest.mark.parametrize("how", ["delete", "zero"])
def test_run_sidecar_deleted_or_zeroed(done, how):
    side = done / RUN / "metrics.json.prov.json"
    side.unlink() if how == "delete" else side.write_text("")
    proc = audit(done)
    assert proc.returncode == 1
    assert (f"provenance sidecar {RUN}/metrics.json.prov.json is missing" if how == "delete"
            else f"sidecar {RUN}/metrics.json.prov.json is not valid JSON") in proc.stdout
    assert "[DCNN (2 layers) / Accuracy]" in proc.stdout


def test_weights_edited(done):
    w = done / RUN / "model.pt"
    w.write_bytes(w.read_bytes()[:-1] + bytes([w.read_bytes()[-1] ^ 1]))
    proc = audit(done)
    assert proc.returncode == 1 and f"{RUN}/model.pt differs from what its job wrote" in proc.stdout


def test_thesis_value_edited_is_caught_and_rerenders(done):
    p = done / "reference/thesis_values.csv"
    rows = list(csv.DictReader(p.open(newline="")))
    row = next(r for r in rows if r["item"] == "table_4_1" and r["row"] == "Dense" and r["column"] == "#Parameters")
    row["value"] = "5.0"
    with p.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    proc = audit(done)
    assert proc.returncode == 1
    assert "reference data reference/thesis_values.csv changed after rendering" in proc.stdout
    assert dry_jobs(done).get("render_table", 0) >= 1  # every table compares with it: rerendered


def test_missing_renders_and_maps_fail(done):
    (done / "figures/smoke/fig_4_2.provenance.json").unlink()
    for f in (done / "paper_tables/smoke").glob("table_4_2.*"):
        f.unlink()
    proc = audit(done)
    assert proc.returncode == 1
    assert "fig_4_2: figure figures/smoke/fig_4_2.pdf, figures/smoke/fig_4_2.png has no provenance map" in proc.stdout
    assert "table_4_2: table is missing" in proc.stdout


def test_dataset_byte_flipped(done):
    f = done / "data/fashion_mnist/t10k-labels-idx1-ubyte.gz"
    b = bytearray(f.read_bytes())
    b[100] ^= 0xFF
    f.write_bytes(bytes(b))
    proc = audit(done)
    assert proc.returncode == 1
    assert "t10k-labels-idx1-ubyte.gz: sha256 differs from" in proc.stdout
    # and the loader refuses it before training (naming the file)
    code = ("from toeplitznet.data import load_split; load_split('fashion_mnist', 'data/fashion_mnist', 'test')")
    out = subprocess.run([sys.executable, "-c", code], cwd=done, capture_output=True, text=True,
                         env=snakemake_env(done))
    assert out.returncode != 0 and "t10k-labels-idx1-ubyte.gz: sha256 differs" in out.stderr


def test_unknown_item_fails(done):
    proc = audit(done, "--item", "table_9_9")
    assert proc.returncode == 1 and "--item table_9_9: not an item of this config" in proc.stdout


def test_code_change_reruns_exactly_its_study_and_renders(done):
    mod = done / "src/toeplitznet/items/ch4_dcnn/table_4_1.py"
    mod.write_text(mod.read_text() + "\n# a change to Table 4.1's code\n")
    assert dry_jobs(done) == {"study_table_4_1": 1, "render_table": 1, "all": 1}
    proc = audit(done)
    assert proc.returncode == 1 and "was made by code that has changed since" in proc.stdout
    assert "table_4_1" in proc.stdout


def test_touch_and_threads_rerun_nothing(done):
    for f in ("workflow/scripts/job.py", "src/toeplitznet/studies/runner.py", "config/config.yaml"):
        os.utime(done / f)
    assert dry_jobs(done) == {}
    assert dry_jobs(done, "--config", "threads=2") == {}
    assert dry_jobs(done, "--config", "data={mirror: data, allow_download: true}") == {}


def test_trainer_change_does_not_reuse_finished_runs(done):
    """A changed trainer gives every run a new checkpoint folder: a (killed) rerun never resumes or reuses the
    old finished run, and the runs rerun."""
    code = ("import yaml; from toeplitznet.plan import build_plan; "
            "p = build_plan(yaml.safe_load(open('config/config.yaml'))); "
            "print(p.runs['cifar10_dcnn_d2_lrelu0p5'].cfg['study']['checkpoint_dir'])")
    before = subprocess.run([sys.executable, "-c", code], cwd=done, capture_output=True, text=True,
                            env=snakemake_env(done), check=True).stdout
    trainer = done / "src/toeplitznet/train/trainer.py"
    trainer.write_text(trainer.read_text() + "\n# changed\n")
    after = subprocess.run([sys.executable, "-c", code], cwd=done, capture_output=True, text=True,
                           env=snakemake_env(done), check=True).stdout
    assert before != after
    assert dry_jobs(done).get("train_run", 0) >= 1


def test_paper_label_over_smoke_settings_is_not_stamped_as_the_thesis(done):
    run_snakemake(done, "paper_tables/paper/table_D_1.md", "--config", "scale=paper")
    md = (done / "paper_tables/paper/table_D_1.md").read_text()
    assert "Scale: paper (the thesis's settings)" not in md
    assert "Scale: paper, but NOT the thesis's settings" in md and "differ from config/paper.yaml" in md
    prov = json.loads((done / "paper_tables/paper/table_D_1.provenance.json").read_text())
    assert "studies.ch4_train.epochs" in prov["scale_deviations"]


def test_nested_config_overrides(done):
    assert "train_run" in dry_jobs(done, "--config", "studies={ch4_train: {epochs: 2}}")
    bad = run_snakemake(done, "-n", "--config", "studies={ch4_train: {epochs: -1}}", check=False)
    out = bad.stdout + bad.stderr
    assert bad.returncode != 0
    assert "config key studies.ch4_train.epochs (set on the command line with --config)" in out
    assert "minimum" in out
