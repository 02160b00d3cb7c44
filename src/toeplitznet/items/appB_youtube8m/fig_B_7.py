"""Figure B.7: NetVLAD embedding with a dense vs a circulant FC layer (Table B.3's runs; thesis L7270-7289, caption
L7321-7322): held-out GAP@20 vs epochs, ours beside the thesis's figure data (x = videos seen / 4,822,555
training videos).
"""

from __future__ import annotations

from ...registry import IMPLEMENTED, Item
from ...yt8m import report as R, runs as Y

REFERENCE = "figB_7_netvlad_compact_vs_dense_fc_gap.csv"
SERIES = {'Dense': 'netvlad_uncompressed', 'Compact': 'netvlad_compressed'}
SCHEMA = """
type: object
additionalProperties: false
properties: {}
"""
ITEM = Item(id="fig_B_7", kind="figure", title="compact NetVLAD embedding",
            thesis_lines="L7270-7322", status=IMPLEMENTED, schema=SCHEMA,
            uses=("yt8m_data", "yt8m_train"), reference=(REFERENCE,))


def MODELS(p) -> list[Y.Row]:
    return [Y.Row('Dense', "frame", 'table_b3_netvlad_dense'),
            Y.Row('Compact', "frame", 'table_b3_netvlad_circulant')]


runs, inputs = Y.item_hooks(ITEM.id)
run, plot = R.curve_hooks(ITEM.id, MODELS, SERIES, REFERENCE,
                           "Figure B.7: compact NetVLAD embedding (GAP@20 vs epochs)")
