"""Training hooks of the robustness runs (Section 5.5; reused by Appendices C and D): data augmentation,
adversarial training and the Lipschitz regulariser, built from a run spec's ``robust`` block::

    {"augment": {"crop_padding": 4, "flip": true},
     "attack": {"norm": "linf" | "l2", "eps", "step", "steps", "random_start": true,
                "labels": "labels" | "predictions", "mode": "eval" | "train",
                "eot_samples": 1 (optional, Appendix D's RAT)} or
               {"kind": "mixed", "select": "max" | "rand", "granularity": "example" | "batch",
                "attacks": [{"norm", "eps", "step", "steps"}, ...], "random_start", "labels", "mode",
                "eot_samples"} (Appendix D's MAT) or null,
     "regularizer": {"method": "lipbound" | "power_method", "c1", "c1_form", "c2", "samples", "grid",
                     "outer", "power_iters", "input_shape"} or null,
     "nproc": 1}

Adversarial training (Madry et al. 2018; thesis L6243-6250): every training batch is replaced by its
PGD-ℓ∞ adversarial examples (one attack per step, random start, final iterate) computed on the true labels
with the model in eval mode by default (``labels: predictions`` / ``mode: train`` reproduce the author's
code: advertorch without labels on the model in train mode). Augmentation (random crop with zero padding,
horizontal flip) comes first and draws from torch's global RNG, which the trainer seeds per epoch, so a
resumed run sees the same crops. The regulariser (Eq. 5.56, :class:`toeplitznet.regularizers.LipschitzRegularizer`)
is the trainer's ``extra_loss``, recomputed every step.

Appendix D (L8358-8451) adds ``eot_samples`` (the attack's loss averaged over that many passes of a noisy
model: RAT with EoT, :func:`toeplitznet.attacks.multinorm.train_pgd`) and the ``mixed`` kind (MAT-Max /
MAT-Rand, :func:`toeplitznet.attacks.multinorm.mixed_train_attack`). A spec without these keys runs exactly
the attack above (``pgd_train``), so Section 5.5's specs, and their run hashes, are unchanged.
"""

from __future__ import annotations

from typing import Any, Mapping


def augment(x, crop_padding: int = 0, flip: bool = False):
    """Random crop (zero padding ``crop_padding``, per example) and random horizontal flip of a 4-d batch."""
    import torch
    import torch.nn.functional as F

    if x.dim() != 4:
        return x
    n, _, h, w = x.shape
    if crop_padding:
        p = int(crop_padding)
        xp = F.pad(x, (p, p, p, p))
        iy = torch.randint(0, 2 * p + 1, (n,), device=x.device)
        ix = torch.randint(0, 2 * p + 1, (n,), device=x.device)
        rows = (iy[:, None] + torch.arange(h, device=x.device))[:, :, None]
        cols = (ix[:, None] + torch.arange(w, device=x.device))[:, None, :]
        idx = torch.arange(n, device=x.device)[:, None, None]
        x = xp.permute(0, 2, 3, 1)[idx, rows, cols].permute(0, 3, 1, 2).contiguous()
    if flip:
        mask = torch.rand(n, device=x.device) < 0.5
        x = torch.where(mask[:, None, None, None], x.flip(3), x)
    return x


def attack_batch(model, x, y, attack: Mapping[str, Any]):
    """The adversarial training batch of ``(x, y)`` (see the module doc)."""
    import torch

    from ..attacks import pgd_train

    was_training = model.training
    if attack.get("mode", "eval") == "eval":
        model.eval()
    target = y
    if attack.get("labels", "labels") == "predictions":
        with torch.no_grad():
            target = model(x).argmax(1)
    kind = attack.get("kind", "pgd")
    if kind not in ("pgd", "mixed"):
        raise ValueError(f"robust.attack.kind must be 'pgd' or 'mixed', got {kind!r}")
    if kind == "mixed":
        from ..attacks.multinorm import mixed_train_attack

        x_adv, _ = mixed_train_attack(model, x, target, attack["attacks"], select=attack["select"],
                                      granularity=attack.get("granularity", "example"),
                                      random_start=bool(attack.get("random_start", True)),
                                      eot_samples=int(attack.get("eot_samples", 1)))
    elif int(attack.get("eot_samples", 1)) > 1:
        from ..attacks.multinorm import train_pgd

        x_adv = train_pgd(model, x, target, norm=attack.get("norm", "linf"), eps=float(attack["eps"]),
                          step=float(attack["step"]), steps=int(attack["steps"]),
                          random_start=bool(attack.get("random_start", True)),
                          eot_samples=int(attack["eot_samples"]))
    else:
        x_adv = pgd_train(model, x, target, eps=float(attack["eps"]), step=float(attack["step"]),
                          steps=int(attack["steps"]), norm=attack.get("norm", "linf"),
                          random_start=bool(attack.get("random_start", True)))
    model.train(was_training)
    return x_adv.detach()


def regularizer(model, reg: Mapping[str, Any]):
    """The :class:`~toeplitznet.regularizers.LipschitzRegularizer` of a ``regularizer`` block."""
    from ..regularizers import LipschitzRegularizer

    return LipschitzRegularizer(model, c1=float(reg["c1"]), c2=float(reg["c2"]), method=reg["method"],
                                samples=int(reg["samples"]), grid=reg["grid"], c1_form=reg["c1_form"],
                                input_shape=tuple(reg["input_shape"]), power_iters=int(reg["power_iters"]),
                                outer=reg.get("outer", "cout"), c2_form=reg.get("c2_form", "log"),
                                linear=bool(reg.get("linear", False)))


def training_hooks(model, robust: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{"on_batch", "extra_loss"}`` trainer hooks of a ``robust`` block (empty for a plain run)."""
    if not robust:
        return {}
    aug, attack, reg = robust.get("augment") or {}, robust.get("attack"), robust.get("regularizer")
    hooks: dict[str, Any] = {}
    if aug.get("crop_padding") or aug.get("flip") or attack:
        def on_batch(m, x, y):
            x = augment(x, int(aug.get("crop_padding", 0)), bool(aug.get("flip", False)))
            if attack:
                x = attack_batch(m, x, y, attack)
            return x, y
        hooks["on_batch"] = on_batch
    if reg:
        r = regularizer(model, reg)
        hooks["extra_loss"] = lambda m: r(m)
    return hooks
