"""Exponential moving average of a model's weights."""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["ModelEMA"]


class ModelEMA:
    """Shadow copy of a model whose floating-point state follows
    ``ema = decay * ema + (1 - decay) * current`` after every optimizer step.

    Floating-point buffers (e.g. batch-norm running statistics) are averaged
    like parameters; integer buffers (``num_batches_tracked``) are copied.
    The shadow starts equal to the model (no bias correction), as in the
    ImageNet setting of the thesis (decay 0.999).

    Parameters
    ----------
    model : nn.Module
    decay : float
        In ``(0, 1)``.
    """

    def __init__(self, model: nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema decay must be in (0, 1), got {decay}")
        self.decay = float(decay)
        self.module = copy.deepcopy(model)
        self.module.eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        current = model.state_dict()
        for name, shadow in self.module.state_dict().items():
            src = current[name].detach()
            if shadow.dtype.is_floating_point:
                shadow.mul_(self.decay).add_(src.to(shadow.dtype), alpha=1.0 - self.decay)
            else:
                shadow.copy_(src)
        self.updates += 1

    def state_dict(self) -> dict:
        return {"decay": self.decay, "updates": self.updates, "module": self.module.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.module.load_state_dict(state["module"])
        self.updates = int(state["updates"])
