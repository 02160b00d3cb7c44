"""Chapter 5, Section 5.5: Lipschitz-regularised adversarial training (thesis L6140-6275, settings S7/S8).

Items: Tables 5.3 (CIFAR-10/100) and 5.4 (ImageNet), Figures 5.3 (accuracy vs attack iterations) and 5.4
(input-Jacobian norms). The arms (Baseline, AT, AT+PM, AT+LipReg, LipReg only) are trained by the generic
rule ``train_run`` with the adversarial-training and regulariser hooks of :mod:`toeplitznet.runs.robust`,
and attacked by the evaluations of :mod:`toeplitznet.runs.robust_eval` (rule ``evaluate_run``), one job
per (run, attack). Run and evaluation specs are expanded by :mod:`._runs`.
"""

import yaml

from ...registry import Section

_TRAIN = """
type: object
additionalProperties: false
required: [model, epochs, max_steps, batch_size, lr, momentum, nesterov, weight_decay, milestones, gamma,
           label_smoothing, ema_decay, augment, attack]
properties:
  model:
    description: build_model spec without dataset-dependent keys (wide_resnet or resnet101)
    type: object
    additionalProperties: false
    required: [family]
    properties:
      family: {enum: [wide_resnet, resnet101]}
      depth: {$ref: "#/$defs/posint", description: "wide_resnet: 6n + 4 (thesis 28)"}
      widen: {$ref: "#/$defs/posint", description: "wide_resnet: width factor (thesis 10)"}
      dropout: {type: number, minimum: 0, maximum: 1}
      leaky_slope: {type: number, minimum: 0, maximum: 1}
  epochs: {$ref: "#/$defs/posint"}
  max_steps: {oneOf: [{type: "null"}, {$ref: "#/$defs/posint"}]}
  batch_size: {$ref: "#/$defs/posint", description: global batch (all processes)}
  lr: {$ref: "#/$defs/posnum"}
  momentum: {type: number, minimum: 0, maximum: 1}
  nesterov: {type: boolean}
  weight_decay: {type: number, minimum: 0}
  milestones:
    description: epochs after which the lr is multiplied by gamma (MultiStepLR)
    type: array
    items: {$ref: "#/$defs/posint"}
  gamma: {$ref: "#/$defs/posnum"}
  label_smoothing: {type: number, minimum: 0, maximum: 1}
  ema_decay: {oneOf: [{type: "null"}, {type: number, exclusiveMinimum: 0, exclusiveMaximum: 1}]}
  augment:
    type: object
    additionalProperties: false
    required: [crop_padding, flip]
    properties:
      crop_padding: {$ref: "#/$defs/nonnegint"}
      flip: {type: boolean}
  attack:
    description: the PGD-linf attack of adversarial training (once per step, random start, final iterate)
    type: object
    additionalProperties: false
    required: [eps, step, steps]
    properties:
      eps: {$ref: "#/$defs/posnum"}
      step: {$ref: "#/$defs/posnum"}
      steps: {$ref: "#/$defs/posint"}
"""

_EVAL = """
type: object
additionalProperties: false
required: [pgd_linf, cw_l2, autoattack]
properties:
  pgd_linf:
    type: object
    additionalProperties: false
    required: [eps, step_fraction, steps, restarts, record]
    properties:
      eps: {type: array, minItems: 1, items: {$ref: "#/$defs/posnum"}}
      step_fraction: {$ref: "#/$defs/posnum", description: step = eps x step_fraction (thesis eps/5)}
      steps: {$ref: "#/$defs/posint"}
      restarts: {$ref: "#/$defs/posint"}
      record:
        description: iteration counts at which the accuracy is also recorded, from the same run (Figure 5.3)
        type: array
        items: {$ref: "#/$defs/posint"}
  cw_l2:
    type: object
    additionalProperties: false
    required: [bounds, binary_search_steps, steps, lr, initial_const, confidence]
    properties:
      bounds: {type: array, minItems: 1, items: {$ref: "#/$defs/posnum"}}
      binary_search_steps: {$ref: "#/$defs/posint"}
      steps: {$ref: "#/$defs/posint"}
      lr: {$ref: "#/$defs/posnum"}
      initial_const: {$ref: "#/$defs/posnum"}
      confidence: {type: number, minimum: 0}
  autoattack:
    description: not in the thesis - AutoAttack (Croce & Hein 2020) at the training eps, the accepted evaluation today
    oneOf:
      - {type: "null"}
      - type: object
        additionalProperties: false
        required: [eps, version, steps, n_target_classes, square_queries]
        properties:
          eps: {$ref: "#/$defs/posnum"}
          version: {enum: [standard, rand]}
          steps: {$ref: "#/$defs/posint"}
          n_target_classes: {$ref: "#/$defs/posint"}
          square_queries: {$ref: "#/$defs/posint"}
"""

_SECTION = """
description: settings of every Section 5.5 training run (rule train_run) and attack (rule evaluate_run)
type: object
additionalProperties: false
required: [datasets, train_subset, test_subset, eval_examples, eval_batch_size, nproc, amp, channels_last,
           attack_labels, attack_mode, lipreg, arms, train, eval]
properties:
  datasets:
    description: dataset read for each thesis dataset (a stand-in at smoke scale)
    type: object
    additionalProperties: false
    required: [cifar10, cifar100, imagenet]
    properties:
      cifar10: {enum: [cifar10, fashion_mnist]}
      cifar100: {enum: [cifar100, fashion_mnist]}
      imagenet: {enum: [imagenet, fashion_mnist]}
  train_subset: {oneOf: [{type: "null"}, {$ref: "#/$defs/posint"}]}
  test_subset: {oneOf: [{type: "null"}, {$ref: "#/$defs/posint"}]}
  eval_examples:
    description: test examples attacked (the first of the test subset, the same for every model); null = all
    oneOf: [{type: "null"}, {$ref: "#/$defs/posint"}]
  eval_batch_size: {$ref: "#/$defs/posint"}
  nproc: {$ref: "#/$defs/posint", description: processes (GPUs) per training run; torchrun DDP when > 1}
  amp: {enum: [none, bf16]}
  channels_last: {type: boolean}
  attack_labels:
    description: labels the training attack uses (thesis - the true labels; the author's code - the model's predictions)
    enum: [labels, predictions]
  attack_mode:
    description: model mode while the training attack runs (thesis silent; the author's code - train)
    enum: [eval, train]
  lipreg:
    type: object
    additionalProperties: false
    required: [c1, c1_form, c2, samples, grid, outer, power_iters]
    properties:
      c1: {type: number, minimum: 0, description: "C1 of Eq. 5.56 (not stated in the thesis)"}
      c1_form:
        description: norms = C1 x sum(||W||_F + ||b||_2) (Eq. 5.56); weight_decay = C1 as SGD weight decay (author's code)
        enum: [norms, weight_decay]
      c2:
        description: C2 of Eq. 5.56 per thesis dataset (one AT+LipReg run per value)
        type: object
        additionalProperties: false
        required: [cifar10, cifar100, imagenet]
        properties:
          cifar10: {type: array, minItems: 1, items: {$ref: "#/$defs/posnum"}}
          cifar100: {type: array, minItems: 1, items: {$ref: "#/$defs/posnum"}}
          imagenet: {type: array, minItems: 1, items: {$ref: "#/$defs/posnum"}}
      samples: {$ref: "#/$defs/posint", description: PolyGrid samples S (thesis S = 10)}
      grid: {enum: [thesis, linspace], description: "thesis = k 2pi/S (Eq. 5.51); linspace = the author's 2020 code"}
      outer:
        description: channel dimension of Eq. 5.38's outer sum (cout = the thesis; smaller = the 2020 code's transpose)
        enum: [cout, smaller]
      power_iters: {$ref: "#/$defs/posint", description: power-method iterations of AT+PM (Farnia et al.; thesis 10)}
  arms:
    description: models trained per thesis dataset
    type: object
    additionalProperties: false
    required: [cifar10, cifar100, imagenet]
    properties:
      cifar10: {type: array, uniqueItems: true, items: {enum: [baseline, at, at_pm, at_lipreg, lipreg]}}
      cifar100: {type: array, uniqueItems: true, items: {enum: [baseline, at, at_pm, at_lipreg, lipreg]}}
      imagenet: {type: array, uniqueItems: true, items: {enum: [baseline, at, at_pm, at_lipreg, lipreg]}}
  train:
    type: object
    additionalProperties: false
    required: [cifar, imagenet]
    properties:
      cifar: TRAIN
      imagenet: TRAIN
  eval:
    type: object
    additionalProperties: false
    required: [cifar, imagenet]
    properties:
      cifar: EVAL
      imagenet: EVAL

"""



def _schema() -> dict:
    out = yaml.safe_load(_SECTION)
    for block, text in (("train", _TRAIN), ("eval", _EVAL)):
        sub = yaml.safe_load(text)
        out["properties"][block]["properties"] = {"cifar": sub, "imagenet": sub}
    return out


#: ``studies.ch5_robust_train``: every Section 5.5 training run and attack
SECTIONS = [Section(name="ch5_robust_train", description="settings of every Section 5.5 training run and attack",
                    schema=_schema())]


def check_config(config) -> None:
    """Cross-field checks of ``studies.ch5_robust_train`` (``ValueError`` naming the key)."""
    from ._runs import check_config as _check

    if "ch5_robust_train" in config.get("studies", {}):
        _check(config)
