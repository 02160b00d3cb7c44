"""Chapter 4, Section 4.6: DCNNs on YouTube-8M (thesis L4878-4990, ECAI Tables 4, 5). Items: Table 4.3
(video-level features, dense baseline vs "4 DC", "32 DC", "4 DC + 1 FC") and Table 4.4 (frame-level model of
Miech et al. with its DBoF / FC / MoE replaced by DC layers: the runs of Appendix B's Table B.1).

Shared section: ``studies.yt8m_data`` (the data: synthetic TFRecords at smoke scale, the verified download at
paper scale; :mod:`toeplitznet.yt8m.dag`). The items themselves are pending (issue 12): the ingestion stage,
the metric and the models exist; the training runs and renders do not yet.
"""

import yaml

from ...registry import Section

_DATA = """
description: the YouTube-8M data of Chapter 4 and Appendix B (toeplitznet.yt8m.dag)
type: object
additionalProperties: false
required: [source, levels, n_classes, validate_train_shards, synthetic]
properties:
  source:
    description: synthetic (TFRecords written by the pipeline, official schema) or download (data.youtube8m)
    enum: [synthetic, download]
  levels:
    type: array
    minItems: 1
    uniqueItems: true
    items: {enum: [video, frame]}
  n_classes: {$ref: "#/$defs/posint", description: "3862 (2018 release)"}
  validate_train_shards:
    description: validate shards with a lower index train (Appendix B, L7186); the rest are the evaluation set
    $ref: "#/$defs/posint"
  synthetic:
    type: object
    additionalProperties: false
    required: [shards, videos_per_shard, world_seed, min_frames, max_frames]
    properties:
      shards:
        type: object
        additionalProperties: false
        required: [train, validate]
        properties: {train: {$ref: "#/$defs/posint"}, validate: {$ref: "#/$defs/posint"}}
      videos_per_shard:
        type: object
        additionalProperties: false
        required: [train, validate]
        properties: {train: {$ref: "#/$defs/posint"}, validate: {$ref: "#/$defs/posint"}}
      world_seed: {type: integer, minimum: 0, description: "seed of the class prototypes shared by every shard"}
      min_frames: {$ref: "#/$defs/posint"}
      max_frames: {type: integer, minimum: 1, maximum: 300}
"""

SECTIONS = [
    Section(name="yt8m_data", description="the YouTube-8M data (synthetic at smoke scale, downloaded at paper scale)",
            schema=yaml.safe_load(_DATA)),
]

from ...registry import Item  # noqa: E402

PENDING = [
    Item(id="table_4_3", kind="table", title="YouTube-8M aggregated: GAP of DCNN heads", thesis_lines="L4903-4933"),
    Item(id="table_4_4", kind="table", title="YouTube-8M full: DBoF / FC / MoE replaced by DC layers",
         thesis_lines="L4934-4961"),
]
