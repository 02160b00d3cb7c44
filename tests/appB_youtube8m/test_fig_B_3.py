"""Figure B.3: the robust DBoF echoes n and k (Eq. B.2) into its model and its table; curves per epoch."""
import json

from toeplitznet.items.appB_youtube8m import fig_B_3
from toeplitznet.yt8m import runs as Y
from yt8m_items import SMOKE, Ctx, cells, inputs_for


def test_n_and_k_reach_the_model_and_the_table(tmp_path):
    p = {"n_bags": 7, "frames_per_bag": 5}
    robust = fig_B_3.MODELS(p)[0]
    paper = {**SMOKE, "studies": {**SMOKE["studies"], "yt8m_train": {**SMOKE["studies"]["yt8m_train"],
                                                                      "shrink": {"dbof": 1, "clusters": 1, "fc": 1,
                                                                                 "bags": 1, "frames": 1}}}}
    spec = Y.run_spec(paper, robust)
    assert spec["model"]["n_bags"] == 7 and spec["model"]["frames_per_bag"] == 5
    smoke = Y.run_spec(SMOKE, robust)["model"]   # shrink bags 5, frames 3
    assert (smoke["n_bags"], smoke["frames_per_bag"]) == (1, 1)
    hist = {"Robust DBoF": [{"epoch": 1, "eval": {"test": {"gap": 0.3}}, "train": {"loss": 2.0}},
                            {"epoch": 2, "eval": {"test": {"gap": 0.4}}, "train": {"loss": 1.5}}]}
    inputs = inputs_for(tmp_path, fig_B_3, p, {}, {}, history=hist)
    path = inputs[f"yt8m_{robust.name}"]
    m = json.loads(open(path).read())
    m["model"] = spec["model"]
    open(path, "w").write(json.dumps(m))
    ctx = Ctx(inputs, p)
    fig_B_3.run(ctx)
    c = cells(ctx)
    assert c[("robust DBoF", "n (number of samples)")] == 7 and c[("robust DBoF", "k (sample size)")] == 5
    curve = ctx.written["result"]["curves"][0]
    assert curve["epoch"] == [1, 2] and curve["gap"] == [0.3, 0.4] and curve["series"] == "dbof_robust"


def test_thesis_setting_is_the_default_robust_dbof():
    # n = 10, k = 15 is the default sampling: the robust DBoF is Table B.3's dense DBoF network
    assert Y.item_specs(SMOKE, "fig_B_3").keys() & Y.item_specs(SMOKE, "table_B_3").keys() == {
        "yt8m_av_dbof8192_fc512_moe4"}
    kinds = {r.label: r.paper_kwargs().get("sampling") for r in fig_B_3.MODELS(SMOKE["studies"]["fig_B_3"])}
    assert kinds == {"Robust DBoF": None, "DBoF w/max pooling": "all", "DBoF w/average pooling": "all"}
