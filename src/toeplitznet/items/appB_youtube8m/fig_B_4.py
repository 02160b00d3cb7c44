"""Figure B.4: dense vs compact DBoF / FC / MoE, video features only (the runs of Table B.1; thesis L7236-7242,
caption L7314-7315): held-out GAP@20 vs epochs, ours beside the thesis's figure data (x = videos seen / 4,822,555
training videos).
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from ...yt8m import report as R, runs as Y

REFERENCE = "figB_4_compact_layers_gap.csv"
SERIES = {'Dense Model': 'dense', 'With compact DBoF': 'compact_dbof', 'With compact FC': 'compact_fc',
          'With compact MoE': 'compact_moe'}
SCHEMA = """
type: object
additionalProperties: false
properties: {}
"""
ITEM = Item(id="fig_B_4", kind="figure", title="GAP vs epochs of compact models",
            thesis_lines="L7236-7315", status=IMPLEMENTED, schema=SCHEMA,
            uses=("yt8m_data", "yt8m_train"), reference=(REFERENCE,))


def MODELS(p) -> list[Y.Row]:
    return [Y.Row('Dense Model', "frame", 'table_b1_dense'),
            Y.Row('With compact DBoF', "frame", 'table_b1_compact_dbof'),
            Y.Row('With compact FC', "frame", 'table_b1_compact_fc'),
            Y.Row('With compact MoE', "frame", 'table_b1_compact_moe')]


runs, inputs = Y.item_hooks(ITEM.id)
run, plot = R.curve_hooks(ITEM.id, MODELS, SERIES, REFERENCE,
                           "Figure B.4: GAP vs epochs of compact models (GAP@20 vs epochs)")
