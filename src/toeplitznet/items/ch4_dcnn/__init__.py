"""Chapter 4: diagonal-circulant networks (DCNNs) and their structured rivals (thesis Sections 4.4-4.5,
ECAI 2020). Items: Figures 4.2-4.6, ECAI Figure 2(a), Tables 4.1, 4.2, 4.5; auxiliary studies: the
parameter counts of the paper architectures and the scattering features. Runs are expanded by
:mod:`._runs`; the aggregation and drawing helpers are in :mod:`._report`.
"""

from ...registry import Section

#: ``studies.ch4_train``: settings of every Chapter 4 training run (rule ``train_run``)
SECTIONS = [Section(name="ch4_train", description="settings shared by every Chapter 4 training run", schema="""
description: settings shared by every Chapter 4 training run (rule train_run)
type: object
additionalProperties: false
required: [datasets, train_subset, test_subset, normalize, toeplitz_output, epochs, batch_size, optimizer,
           lr_boundaries, lr_values, eval_every, log_every]
properties:
  datasets:
    description: dataset read for each thesis dataset (a stand-in at smoke scale)
    type: object
    additionalProperties: false
    required: [cifar10, mnist]
    properties:
      cifar10: {enum: [cifar10, fashion_mnist, mnist]}
      mnist: {enum: [mnist, fashion_mnist]}
  train_subset: {oneOf: [{type: "null"}, {$ref: "#/$defs/posint"}]}
  test_subset: {oneOf: [{type: "null"}, {$ref: "#/$defs/posint"}]}
  normalize: {type: boolean}
  toeplitz_output:
    description: output layer of the Toeplitz / DTNN networks (the thesis does not say; its counts imply
      sliced_square)
    enum: [sliced_square, rectangular]
  epochs: {$ref: "#/$defs/posint"}
  batch_size: {$ref: "#/$defs/posint"}
  optimizer: {enum: [adam, adamw, sgd]}
  lr_boundaries:
    description: piecewise-constant lr boundaries (optimizer steps), strictly increasing
    type: array
    minItems: 1
    items: {$ref: "#/$defs/posint"}
  lr_values:
    description: one more value than boundaries (the lr before the first boundary first)
    type: array
    minItems: 2
    items: {$ref: "#/$defs/posnum"}
  eval_every: {$ref: "#/$defs/posint"}
  log_every: {$ref: "#/$defs/posint"}
""")]


def check_config(config) -> None:
    """Cross-field checks of the chapter's sections (called by :func:`toeplitznet.config.validate`)."""
    from ._runs import check_config as _check

    if "ch4_train" in config.get("studies", {}):
        _check(config)
