"""Figure B.5: compact FC with learned diagonals vs Cheng et al. (2015)'s fixed random +-1 diagonals (audio + video,
DBoF; thesis L7259-7268, caption L7316-7318): held-out GAP@20 vs epochs, ours beside the thesis's figure data (x
= videos seen / 4,822,555 training videos).
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from ...yt8m import report as R, runs as Y

REFERENCE = "figB_5_learned_vs_fixed_diagonals_gap.csv"
SERIES = {'Model with learned diagonals': 'learned_diag', 'Model with fixed diagonals': 'fixed_diag'}
SCHEMA = """
type: object
additionalProperties: false
properties: {}
"""
ITEM = Item(id="fig_B_5", kind="figure", title="fixed random ±1 diagonals (Cheng et al.) vs learned diagonals",
            thesis_lines="L7259-7318", status=IMPLEMENTED, schema=SCHEMA,
            uses=("yt8m_data", "yt8m_train"), reference=(REFERENCE,))


def MODELS(p) -> list[Y.Row]:
    return [Y.Row('Model with learned diagonals', "frame", 'fig_b5_learned'),
            Y.Row('Model with fixed diagonals', "frame", 'fig_b5_cheng')]


runs, inputs = Y.item_hooks(ITEM.id)
run, plot = R.curve_hooks(ITEM.id, MODELS, SERIES, REFERENCE,
                           "Figure B.5: fixed random ±1 diagonals (Cheng et al.) vs learned diagonals "
                           "(GAP@20 vs epochs)")
