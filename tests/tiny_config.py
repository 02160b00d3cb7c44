"""The *tiny* smoke config of the item contract test (tests/test_item_contract.py): config/config.yaml with
the fewest epochs, steps, examples, grid points, networks and repeats the schemas allow, every item still
listed. Shared runs are kept shared (one DCNN depth per Chapter 4 figure, the thesis's row of Table 4.1
where it is cheap), so the whole DAG is a few dozen short jobs.

Run as a script to write it: ``python tests/tiny_config.py OUT.yaml`` (for timing the DAG by hand).
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def tiny_config(base: dict | None = None) -> dict:
    """A deep copy of ``base`` (default: config/config.yaml) shrunk to the smallest valid DAG."""
    cfg = copy.deepcopy(base if base is not None else yaml.safe_load((ROOT / "config/config.yaml").read_text()))
    cfg["threads"] = 1
    st = cfg["studies"]
    st["fig_5_1"].update(n_panels=1, grid_points=16)                     # S = 10 kept (a thesis cell)
    st["fig_5_2"].update(shapes=["1x6x3x3"], prose_shape="1x6x3x3", n_min=6, n_max=12, n_step=6,
                         prose_sizes=[10], prose_draws=0, lipbound_samples=16, thesis_samples=4)
    t51 = st["table_5_1"]
    # conv1 keeps 32 filters so that the thesis's '32x3x3' column (conv2 over 32 input channels) exists
    t51.update(checkpoint=None, model={"channels": [32, 2]}, n_kernels=2, input_size=8, gram_iterations=1,
               power_iterations=2, warmup=0, repeats=1)
    t51["train"].update(steps=3, batch_size=16, train_subset=200, test_subset=200)
    st["table_5_2"].update(networks=["squeezenet1_1"], methods=["lipbound", "power_method"], input_size=32,
                           lipbound_samples=3, power_iterations=1, warmup=0, repeats=1)
    st["ch4_train"].update(epochs=1, train_subset=200, test_subset=200, batch_size=100, eval_every=1,
                           log_every=1)
    # Chapter 4 grids: the 2-layer DCNN (slope 0.5) is shared by Table 4.1, Figures 4.2 and 4.5; the
    # 1-layer ReLU DCNN by ECAI Figure 2(a) and Figure 4.4
    st["fig_4_2"].update(depths=[2], slopes=[0.5])
    st["ecai_fig_2a"].update(depths=[1], relu_every=[1])
    st["fig_4_3"].update(n_samples=100, steps=10, log_every=5, dcnn_depths=[2], acdc_depths=[2],
                         check_acdc_depths=[])
    st["fig_4_4"].update(dcnn_depths=[1], acdc_depths=[1])
    st["fig_4_5"].update(dcnn_depths=[2], dtnn_depths=[1], toeplitz_depths=[1], lowrank_ranks=[7])
    st["table_4_1"].update(dcnn_depths=[2], ldr_td_ranks=[2], toeplitz_like_ranks=[2])
    st["table_4_2"].update(depth=1, width=16)
    st["table_4_5"].update(J=1, L=2, dc_depths=[1], ldr_sd_ranks=[1], toeplitz_like_ranks=[])
    # Section 5.5: WRN-10-1, 2 steps, attacks of 1-2 iterations on 8 images; the arms each item needs
    r = st["ch5_robust_train"]
    r.update(train_subset=64, test_subset=16, eval_examples=8, eval_batch_size=8,
             arms={"cifar10": ["baseline", "at", "at_lipreg", "lipreg"], "cifar100": ["at"], "imagenet": ["at"]})
    r["lipreg"]["c2"] = {"cifar10": [0.008], "cifar100": [0.008], "imagenet": [0.001]}
    for blk in ("cifar", "imagenet"):
        r["train"][blk].update(epochs=1, max_steps=2, batch_size=16, milestones=[])
        r["train"][blk]["attack"].update(steps=1)
        e = r["eval"][blk]
        e["pgd_linf"].update(eps=e["pgd_linf"]["eps"][:1], steps=2, restarts=1, record=[1])
        e["cw_l2"].update(binary_search_steps=1, steps=2)
        e["autoattack"] = None
    st["table_5_3"].update(certified_radii=[0.1])
    st["table_5_4"].update(certified_radii=[0.1])
    st["fig_5_3"].update(arms=["at"], cw_steps=[2])
    st["fig_5_4"].update(iters=2, examples=8)
    # ---- Appendix C (appC_*) ----
    # one sd (0.5) per distribution shared by every item, 2 steps, a handful of draws and images
    c = st["appC_randomized_train"]
    c.update(train_subset=64, test_subset=16, eval_batch_size=16, attack_batch_size=4)
    c["train"].update(epochs=1, max_steps=2, batch_size=16)
    st["fig_C_1"].update(sds=[0.5])
    for f in ("fig_C_2", "fig_C_3"):
        st[f].update(sds=[0.5], draws=8, examples=4, alpha_points=5)
    for t in ("table_C_1", "table_C_2"):
        st[t].update(sds=[0.5], examples=4, eot_samples=2)
        st[t]["pgd"].update(steps=1)
        st[t]["cw"].update(binary_search_steps=1, steps=2)
    st["table_C_1"]["ead"].update(binary_search_steps=1, steps=2)
    st["table_C_2"].update(autoattack={"eps": 0.06, "steps": 1, "eot_iter": 1, "repeats": 1},
                           smoothing={"n0": 2, "n": 8, "alpha": 0.01, "radii": [0.0], "examples": 4})
    # ---- Appendix D (appD_*) ----
    # 2 steps per defence, 1-iteration attacks on 8 images; Baseline / AT-linf stay Section 5.5's runs, so the
    # attacked test subset follows Section 5.5's
    d = st["appD_train"]
    d.update(train_subset=64, test_subset=r["test_subset"], eval_examples=8, natural_examples=8, eval_batch_size=8)
    d["train"].update(max_steps=2, batch_size=16)
    d["train"]["attack"].update(steps=1)
    d["eval"].update(steps=1, eot_samples=1)
    st["fig_D_2"].update(examples=8, n_radii=3, cw={**st["fig_D_2"]["cw"], "binary_search_steps": 1, "steps": 2})
    # ---- YouTube-8M (ch4_youtube8m, appB_youtube8m) ----
    # one train shard, two validate shards (the second is the evaluation set) of a few short videos; shrunk
    # networks, one epoch; the fewest rows, so that the runs are shared (Table 4.4 = B.1 = Fig B.4's dense, ...)
    y = st["yt8m_data"]
    y["synthetic"].update(shards={"train": 1, "validate": 2}, videos_per_shard={"train": 40, "validate": 20},
                          min_frames=3, max_frames=8)
    st["yt8m_train"].update(epochs=1, batch_size=32, max_frames=8, eval_batch_size=64, log_every=1,
                            shrink={"dbof": 256, "clusters": 16, "fc": 32, "bags": 10, "frames": 5})
    st["table_4_3"].update(rows=["Baseline"])
    st["table_4_4"].update(rows=["original"])
    st["table_B_1"].update(rows=["Dense Model"])
    st["table_B_2"].update(factors=[1])
    st["table_B_3"].update(embeddings=["dbof"])
    st["fig_B_9"].update(models=[4])
    return cfg


if __name__ == "__main__":  # pragma: no cover
    Path(sys.argv[1]).write_text(yaml.safe_dump(tiny_config(), sort_keys=False))
