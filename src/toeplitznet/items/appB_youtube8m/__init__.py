"""Appendix B: compact YouTube-8M video classifiers with circulant layers. Pending."""

from ...registry import Item

PENDING = [
    Item(id="fig_B_3", kind="figure", title="robust DBoF pooling vs max and average pooling", thesis_lines="L7214-7313"),
    Item(id="fig_B_4", kind="figure", title="GAP vs epochs of compact models", thesis_lines="L7236-7315"),
    Item(id="fig_B_5", kind="figure", title="fixed random ±1 diagonals (Cheng et al.) vs learned diagonals",
         thesis_lines="L7259-7318"),
    Item(id="fig_B_6", kind="figure", title="compact DBoF embedding + dense FC", thesis_lines="L7270-7320"),
    Item(id="fig_B_7", kind="figure", title="compact NetVLAD embedding", thesis_lines="L7270-7322"),
    Item(id="fig_B_8", kind="figure", title="compact NetFV embedding", thesis_lines="L7270-7324"),
    Item(id="fig_B_9", kind="figure", title="size vs GAP of every Appendix B model", thesis_lines="L7140-7299"),
    Item(id="table_B_1", kind="table", title="effect of compacting each layer (video features)",
         thesis_lines="L7220-7242"),
    Item(id="table_B_2", kind="table", title="#params and GAP vs number of DC factors in the FC layer",
         thesis_lines="L7243-7258"),
    Item(id="table_B_3", kind="table", title="FC compression with DBoF / NetVLAD / NetFV embeddings",
         thesis_lines="L7270-7289"),
]
