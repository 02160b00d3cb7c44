"""Chapter 4, Section 4.6: DCNNs on YouTube-8M (thesis L4878-4990, ECAI Tables 4, 5). Items: Table 4.3
(video-level features, dense baseline vs "4 DC", "32 DC", "4 DC + 1 FC") and Table 4.4 (frame-level model of
Miech et al. with its DBoF / FC / MoE replaced by DC layers: the runs of Appendix B's Table B.1).

Shared sections: ``studies.yt8m_data`` (the data: synthetic TFRecords at smoke scale, the verified download at
paper scale; :mod:`toeplitznet.yt8m.dag`) and ``studies.yt8m_train`` (every YouTube-8M training run, Chapter 4
and Appendix B: :mod:`toeplitznet.yt8m.runs`). Auxiliary study: ``param_counts_yt8m`` (the paper-size counts).
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

_TRAIN = """
description: every YouTube-8M training run (rule train_run; thesis S2 L4980-4991, S3 L7183-7213)
type: object
additionalProperties: false
required: [optimizer, lr, lr_decay, decay_examples, batch_size, epochs, grad_clip, grad_clip_mode, max_frames,
           split_halves, eval_every, log_every, eval_batch_size, train_subset, test_subset, shrink]
properties:
  optimizer: {enum: [adam, adamw, sgd], description: "thesis: Adam"}
  lr: {$ref: "#/$defs/posnum", description: "thesis: 0.0002"}
  lr_decay: {type: number, exclusiveMinimum: 0, maximum: 1, description: "thesis: 0.8 (staircase)"}
  decay_examples: {$ref: "#/$defs/posint", description: "thesis: every 4,000,000 examples"}
  batch_size: {$ref: "#/$defs/posint", description: "not in the thesis; author's code 80 per GPU x 4 GPUs"}
  epochs: {$ref: "#/$defs/posint", description: "not in the thesis; author's code 15"}
  grad_clip: {oneOf: [{type: "null"}, {$ref: "#/$defs/posnum"}], description: "thesis: gradient clipping (value not stated; starter code 1.0)"}
  grad_clip_mode: {enum: [global, per_parameter], description: "per_parameter = TensorFlow clip_by_norm per variable (starter code)"}
  max_frames: {type: integer, minimum: 1, maximum: 300, description: "frames read per video (300 in the data)"}
  split_halves: {type: boolean, description: "Appendix B augmentation: each training video split into two halves (frame level)"}
  eval_every: {$ref: "#/$defs/posint"}
  log_every: {$ref: "#/$defs/posint"}
  eval_batch_size: {$ref: "#/$defs/posint"}
  train_subset: {oneOf: [{type: "null"}, {$ref: "#/$defs/posint"}]}
  test_subset: {oneOf: [{type: "null"}, {$ref: "#/$defs/posint"}]}
  seeds:
    description: training seeds of the YouTube-8M runs (default the config's seeds); must contain seed
    oneOf: [{type: "null"}, {type: array, minItems: 1, uniqueItems: true, items: {type: integer, minimum: 0}}]
  shrink:
    description: divisors of the frame models' sizes (1 = the paper's; the smoke scale trains smaller networks of
      the same structure, their paper-size counts come from study param_counts_yt8m)
    type: object
    additionalProperties: false
    required: [dbof, clusters, fc, bags, frames]
    properties:
      dbof: {$ref: "#/$defs/posint"}
      clusters: {$ref: "#/$defs/posint"}
      fc: {$ref: "#/$defs/posint"}
      bags: {$ref: "#/$defs/posint", description: "divides the number of sampled bags (n of Eq. B.2)"}
      frames: {$ref: "#/$defs/posint", description: "divides the frames per bag (k of Eq. B.2)"}
"""

SECTIONS = [
    Section(name="yt8m_data", description="the YouTube-8M data (synthetic at smoke scale, downloaded at paper scale)",
            schema=yaml.safe_load(_DATA)),
    Section(name="yt8m_train", description="settings shared by every YouTube-8M training run",
            schema=yaml.safe_load(_TRAIN)),
]

