"""Training settings stated in the thesis, as :class:`TrainConfig` dicts.

Only what the text states is filled in; anything else keeps the
:class:`TrainConfig` default and should be set (and reported) by the study.
Line numbers refer to ``/work/shared/reference/thesis.txt``.
"""

from __future__ import annotations

import copy

__all__ = ["THESIS_PRESETS", "thesis_preset"]

THESIS_PRESETS: dict[str, dict] = {
    # Ch. 4 (diagonal-circulant nets), CIFAR-10: "200 epochs, a batch size of 200 ...
    # Adam ... piecewise constant learning rate of 5e-5, 2.5e-5, 5e-6 and 1e-6 after
    # respectively 40K, 60K and 80K steps" (l. 4978-4981). With 50K training images
    # this is 250 steps/epoch = 50K steps: only the 40K boundary is ever reached.
    "ch4_cifar10": {
        "optimizer": "adam", "lr": 5e-5, "epochs": 200, "batch_size": 200, "loss": "cross_entropy",
        "schedule": {"type": "piecewise", "boundaries": [40_000, 60_000, 80_000],
                     "values": [5e-5, 2.5e-5, 5e-6, 1e-6], "unit": "step"},
    },
    # Ch. 5 (Lipschitz regularisation), CIFAR-10/100 WideResNet-28-10: 200 epochs, batch 200,
    # SGD momentum 0.9, lr 0.1, MultiStepLR gamma 0.1 after epochs 60, 120, 160 (l. 6231-6245).
    "ch5_cifar_wrn": {
        "optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "epochs": 200, "batch_size": 200,
        "schedule": {"type": "multistep", "milestones": [60, 120, 160], "gamma": 0.1},
    },
    # Ch. 5, ImageNet ResNet-101: SGD momentum 0.9, weight decay 1e-4, label smoothing 0.1,
    # lr 0.1, MultiStepLR gamma 0.1 after epochs 30 and 60, EMA 0.999, 80 epochs, batch 4096
    # (l. 6260-6265).
    "ch5_imagenet": {
        "optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4, "label_smoothing": 0.1,
        "epochs": 80, "batch_size": 4096, "ema_decay": 0.999,
        "schedule": {"type": "multistep", "milestones": [30, 60], "gamma": 0.1},
    },
    # App. C (noise injection), CIFAR-10 WideResNet-28-10: 200 epochs, batch 400, momentum 0.9,
    # piecewise lr 0.1, 0.02, 0.004, 0.00008 after 7500, 15000, 20000 steps (l. 7833-7836).
    "appC_cifar_wrn": {
        "optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "epochs": 200, "batch_size": 400,
        "schedule": {"type": "piecewise", "boundaries": [7500, 15000, 20000],
                     "values": [0.1, 0.02, 0.004, 0.00008], "unit": "step"},
    },
    # Ch. 4 YouTube-8M (Adam 2e-4, decay 0.8 every 4M examples, l. 4987-4988) is not
    # included: the thesis does not state its batch size or number of epochs.
}


def thesis_preset(name: str, **overrides) -> dict:
    """A copy of ``THESIS_PRESETS[name]`` updated with ``overrides``."""
    if name not in THESIS_PRESETS:
        raise KeyError(f"unknown preset {name!r}; known: {sorted(THESIS_PRESETS)}")
    d = copy.deepcopy(THESIS_PRESETS[name])
    d.update(overrides)
    return d
