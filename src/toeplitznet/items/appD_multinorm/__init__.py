"""Appendix D: robustness to several norms (thesis L7955-8451, settings S10).

Table D.1 (Theorem D.1's volume bound) is an exact computation. Tables D.2, D.3 and Figure D.2 share the
defences of Table D.3 (Baseline, AT-ℓ∞, AT-ℓ2, MAT-Max, MAT-Rand, NI and RAT with Gaussian / uniform noise),
trained by the generic rule ``train_run`` (hooks of :mod:`toeplitznet.runs.robust`) from the shared section
``studies.appD_train`` and evaluated by the kinds of :mod:`toeplitznet.runs.multinorm_eval`; specs are
expanded by :mod:`._runs`. Settings and choices: docs/appendix_d.md.
"""

import yaml

from ...registry import Section

_SECTION = """
description: settings of every Appendix D training run (rule train_run) and PGD evaluation (rule evaluate_run)
type: object
additionalProperties: false
required: [source, train_subset, test_subset, eval_examples, natural_examples, eval_batch_size, nproc, amp,
           channels_last, attack_labels, attack_mode, reuse_ch5, eps, train, mat, noise, eval]
properties:
  source: {enum: [cifar10, fashion_mnist], description: dataset read for CIFAR-10 (a stand-in at smoke scale)}
  train_subset: {oneOf: [{type: "null"}, {$ref: "#/$defs/posint"}]}
  test_subset: {oneOf: [{type: "null"}, {$ref: "#/$defs/posint"}]}
  eval_examples:
    description: test examples attacked (the first of the test subset, the same for every model); null = all
    oneOf: [{type: "null"}, {$ref: "#/$defs/posint"}]
  natural_examples:
    description: test examples of the natural accuracy (the first of the test subset); null = all
    oneOf: [{type: "null"}, {$ref: "#/$defs/posint"}]
  eval_batch_size: {$ref: "#/$defs/posint"}
  nproc: {$ref: "#/$defs/posint", description: processes (GPUs) per training run; torchrun DDP when > 1}
  amp: {enum: [none, bf16]}
  channels_last: {type: boolean}
  attack_labels: {enum: [labels, predictions], description: labels of the training attack (thesis silent)}
  attack_mode: {enum: [eval, train], description: model mode while the training attack runs (thesis silent)}
  reuse_ch5:
    description: Baseline and AT-linf are the Section 5.5 runs ch5_cifar10_baseline / ch5_cifar10_at (needs
      the same model, data and eps as studies.ch5_robust_train)
    type: boolean
  eps:
    description: attack radii of training and evaluation (thesis 0.031 and 0.83, equal volume in d = 3072)
    type: object
    additionalProperties: false
    required: [linf, l2]
    properties:
      linf: {$ref: "#/$defs/posnum"}
      l2: {$ref: "#/$defs/posnum"}
  train:
    type: object
    additionalProperties: false
    required: [model, epochs, max_steps, batch_size, lr, momentum, nesterov, weight_decay, milestones, gamma,
               label_smoothing, ema_decay, augment, attack]
    properties:
      model:
        type: object
        additionalProperties: false
        required: [family, depth, widen, dropout, leaky_slope]
        properties:
          family: {enum: [wide_resnet]}
          depth: {$ref: "#/$defs/posint", description: "6n + 4 (thesis 28)"}
          widen: {$ref: "#/$defs/posint", description: "width factor (thesis 10)"}
          dropout: {type: number, minimum: 0, maximum: 1}
          leaky_slope: {type: number, minimum: 0, maximum: 1}
      epochs: {$ref: "#/$defs/posint"}
      max_steps: {oneOf: [{type: "null"}, {$ref: "#/$defs/posint"}]}
      batch_size: {$ref: "#/$defs/posint", description: global batch (all processes)}
      lr: {$ref: "#/$defs/posnum"}
      momentum: {type: number, minimum: 0, maximum: 1}
      nesterov: {type: boolean}
      weight_decay: {type: number, minimum: 0}
      milestones: {type: array, items: {$ref: "#/$defs/posint"}, description: epochs of the lr drops}
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
        description: the PGD of adversarial training (AT, MAT, RAT; thesis 10 iterations), once per step
        type: object
        additionalProperties: false
        required: [steps, step_fraction, random_start, eot_samples]
        properties:
          steps: {$ref: "#/$defs/posint"}
          step_fraction: {$ref: "#/$defs/posnum", description: "step = eps x step_fraction (per norm)"}
          random_start: {type: boolean}
          eot_samples: {$ref: "#/$defs/posint", description: "RAT: EoT passes per attack step (1 = one noise draw)"}
  mat:
    type: object
    additionalProperties: false
    required: [granularity]
    properties:
      granularity:
        description: example = Eq. D.12-D.13 (per example); batch = the author's code (one norm per batch)
        enum: [example, batch]
  noise:
    description: NI / RAT noise on [0, 1] pixels (not stated in the thesis; the author's configs)
    type: object
    additionalProperties: false
    required: [gaussian_sd, uniform_half_width, clip]
    properties:
      gaussian_sd: {$ref: "#/$defs/posnum"}
      uniform_half_width: {$ref: "#/$defs/posnum", description: "U[-a, a]"}
      clip: {type: boolean, description: "clip the noisy image to [0, 1]"}
  eval:
    description: the PGD-linf and PGD-l2 attacks of Tables D.2-D.3 (thesis 20 iterations)
    type: object
    additionalProperties: false
    required: [steps, step_fraction, restarts, eot_samples, accounting]
    properties:
      steps: {$ref: "#/$defs/posint"}
      step_fraction: {$ref: "#/$defs/posnum", description: "step = eps x step_fraction (per norm)"}
      restarts: {$ref: "#/$defs/posint"}
      eot_samples: {$ref: "#/$defs/posint", description: EoT passes for the noise defences (1 for the others)}
      accounting:
        description: reevaluate = x_adv classified afresh (EoT); any_iterate = Section 5.5's rule
        enum: [reevaluate, any_iterate]
"""

#: ``studies.appD_train``: every Appendix D training run and PGD evaluation
SECTIONS = [Section(name="appD_train", description="settings of every Appendix D training run and attack",
                    schema=yaml.safe_load(_SECTION))]


def check_config(config) -> None:
    """Cross-field checks of ``studies.appD_train`` (``ValueError`` naming the key)."""
    if "appD_train" in config.get("studies", {}):
        from ._runs import check_config as _check

        _check(config)
