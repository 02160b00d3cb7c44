"""Appendix C: randomised networks (noise injection on the image, EoT attacks, the Theorem C.2 guarantee;
thesis L7825-7945, settings S9).

Items: Figure C.1 (natural accuracy vs noise sd), Figures C.2 / C.3 (Theorem C.2's guaranteed accuracy vs the
ℓ2 / ℓ1 norm of the perturbation, Gaussian / Laplace noise), Tables C.1 (EAD-ℓ1, C&W-ℓ2, PGD-ℓ∞ with EoT) and
C.2 (beside Madry et al.'s adversarial training). Runs are trained by the generic rule ``train_run`` (noise in
the model spec), evaluated by :mod:`toeplitznet.runs.randomized_eval` (rule ``evaluate_run``); specs in
:mod:`._runs`. Derivations and choices: ``docs/appendix_c.md``.
"""

import yaml

from ...registry import Section

_SECTION = """
description: settings of every Appendix C training run and evaluation (all sds and budgets on the thesis's [-1, 1] scale)
type: object
additionalProperties: false
required: [dataset, train_subset, test_subset, eval_batch_size, attack_batch_size, nproc, amp, channels_last, bundle,
           baseline, noise_clip, prediction, eot_form, train]
properties:
  dataset: {enum: [cifar10, fashion_mnist], description: dataset read for CIFAR-10 (a stand-in at smoke scale)}
  train_subset: {oneOf: [{type: "null"}, {$ref: "#/$defs/posint"}]}
  test_subset: {oneOf: [{type: "null"}, {$ref: "#/$defs/posint"}]}
  eval_batch_size: {$ref: "#/$defs/posint", description: "natural accuracy, Monte-Carlo draws, smoothing"}
  attack_batch_size: {$ref: "#/$defs/posint", description: "EoT attacks (memory grows with the EoT samples)"}
  nproc: {$ref: "#/$defs/posint"}
  amp: {enum: [none, bf16]}
  channels_last: {type: boolean}
  bundle:
    description: one 'suite' evaluation job per run holding all its Appendix C evaluations (true) or one job per evaluation
    type: boolean
  baseline:
    description: the noise-free model - own (these settings, no noise) or ch5 (Section 5.5's ch5_cifar10_baseline)
    enum: [own, ch5]
  noise_clip: {type: boolean, description: clip the noisy image to the pixel range (thesis - no)}
  prediction:
    description: how a randomised model predicts when its accuracy is measured (thesis silent; author - one draw)
    type: object
    additionalProperties: false
    required: [rule, draws]
    properties:
      rule: {enum: [single, mean_softmax, majority]}
      draws: {$ref: "#/$defs/posint", description: draws of mean_softmax / majority}
  eot_form:
    description: "the EoT model C&W and EAD attack - probabilities (log of the mean softmax) or logits (their mean; the author's C&W)"
    enum: [probabilities, logits]
  train:
    type: object
    additionalProperties: false
    required: [model, epochs, max_steps, batch_size, momentum, nesterov, weight_decay, lr_boundaries, lr_values, augment]
    properties:
      model:
        type: object
        additionalProperties: false
        required: [family, depth, widen, dropout, leaky_slope]
        properties:
          family: {enum: [wide_resnet]}
          depth: {$ref: "#/$defs/posint", description: "6n + 4 (thesis 28)"}
          widen: {$ref: "#/$defs/posint", description: "thesis 10"}
          dropout: {type: number, minimum: 0, maximum: 1}
          leaky_slope: {type: number, minimum: 0, maximum: 1}
      epochs: {$ref: "#/$defs/posint"}
      max_steps: {oneOf: [{type: "null"}, {$ref: "#/$defs/posint"}]}
      batch_size: {$ref: "#/$defs/posint"}
      momentum: {type: number, minimum: 0, maximum: 1}
      nesterov: {type: boolean}
      weight_decay: {type: number, minimum: 0}
      lr_boundaries: {type: array, minItems: 1, items: {$ref: "#/$defs/posint"}, description: steps}
      lr_values: {type: array, minItems: 2, items: {$ref: "#/$defs/posnum"}}
      augment:
        type: object
        additionalProperties: false
        required: [crop_padding, flip]
        properties:
          crop_padding: {$ref: "#/$defs/nonnegint"}
          flip: {type: boolean}
"""

#: ``studies.appC_randomized_train``: every Appendix C training run and evaluation
SECTIONS = [Section(name="appC_randomized_train", description="settings of every Appendix C run and evaluation",
                    schema=yaml.safe_load(_SECTION))]

#: JSON-schema fragments of the items' attack blocks (on the [-1, 1] scale)
PGD = """
type: object
additionalProperties: false
required: [eps, step, steps, restarts]
properties:
  eps: {$ref: "#/$defs/posnum"}
  step: {$ref: "#/$defs/posnum"}
  steps: {$ref: "#/$defs/posint"}
  restarts: {$ref: "#/$defs/posint"}
"""
CW = """
type: object
additionalProperties: false
required: [bound, binary_search_steps, steps, lr, initial_const, confidence]
properties:
  bound: {oneOf: [{type: "null"}, {$ref: "#/$defs/posnum"}], description: l2 bound (null = unbounded)}
  binary_search_steps: {$ref: "#/$defs/posint"}
  steps: {$ref: "#/$defs/posint"}
  lr: {$ref: "#/$defs/posnum"}
  initial_const: {$ref: "#/$defs/posnum"}
  confidence: {type: number, minimum: 0}
"""
EAD = CW.replace("required: [bound,", "required: [regularization, decision_rule, bound,").replace(
    "l2 bound", "l1 bound") + """  regularization: {$ref: "#/$defs/posnum", description: beta of the elastic net}
  decision_rule: {enum: [EN, L1]}
"""
AUTOATTACK = """
description: not in thesis - AutoAttack rand (APGD-CE, APGD-DLR with EoT), repeated over noise draws keeping the worst
oneOf:
  - {type: "null"}
  - type: object
    additionalProperties: false
    required: [eps, steps, eot_iter, repeats]
    properties:
      eps: {$ref: "#/$defs/posnum"}
      steps: {$ref: "#/$defs/posint"}
      eot_iter: {$ref: "#/$defs/posint"}
      repeats: {$ref: "#/$defs/posint"}
"""


def check_config(config) -> None:
    """Cross-field checks of ``studies.appC_randomized_train`` (``ValueError`` naming the key)."""
    from ._runs import SECTION, check_config as _check

    if SECTION in config.get("studies", {}):
        _check(config)


def item_schema(text: str, **blocks: str) -> dict:
    """An item's schema from its YAML ``text`` with ``properties.<name>`` replaced by the fragments ``blocks``."""
    s = yaml.safe_load(text)
    for name, frag in blocks.items():
        s["properties"][name] = yaml.safe_load(frag)
    return s
