"""Chapter 4, Section 4.6: DCNNs on YouTube-8M (ECAI Tables 4, 5). Pending: TFRecord ingestion (its own
TensorFlow environment), GAP@20 and the DC-replaced video models."""

from ...registry import Item

PENDING = [
    Item(id="table_4_3", kind="table", title="YouTube-8M aggregated: GAP of DCNN heads", thesis_lines="L4903-4933"),
    Item(id="table_4_4", kind="table", title="YouTube-8M full: DBoF / FC / MoE replaced by DC layers",
         thesis_lines="L4934-4961"),
]
