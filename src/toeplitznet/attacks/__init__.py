"""Adversarial attacks and robustness evaluation (thesis Chapter 5.5, L6246-6273; reused by Appendices C, D).

Conventions of every attack: inputs in [0, 1] (normalisation lives inside the model), true labels, the model
attacked in eval mode with its previous per-module modes restored, no gradient written into the parameters
(``requires_grad`` and ``.grad`` untouched), deterministic given ``seed``. Each returns an
:class:`AttackResult` (``x_adv`` within the ball and [0, 1], ``robust`` per example).

* :func:`pgd` / :class:`PGD` - PGD-ℓ∞/ℓ2 with restarts, the thesis's highest-loss selection over iterations
  and restarts (L6251-6253), broken-by-any-iterate accounting and ``robust_at`` (Figure 5.3) from one run.
* :func:`pgd_train` - the fast training attack of adversarial training (L6246-6248).
* :func:`bounded_cw_l2` - C&W-ℓ2 (foolbox 3.3.4) projected onto ℓ2 balls of given bounds (L6254-6257).
* :func:`autoattack` / :func:`autoattack_components` - AutoAttack from torchattacks 3.5.1 components with the
  reference settings (``standard`` / ``rand``).
* :func:`ead_l1` - the elastic-net ℓ1 attack EAD (foolbox 3.3.4), optionally bounded (Appendix C, Table C.1).
* :func:`eot_loss` / :class:`EoT` - Expectation over Transformation for randomised models (Appendix C).
* :func:`evaluate_attack` - batched robust accuracy over a data set.
* :func:`train_pgd` / :func:`mixed_train_attack` / :func:`minimal_cw_l2` - Appendix D: the training PGD with
  EoT (RAT), MAT-Max / MAT-Rand, the minimal C&W-ℓ2 perturbation (Figure D.2) (:mod:`.multinorm`).

foolbox and torchattacks (optional dependency group ``robust``) are imported only inside the functions that use
them. Semantics and settings: ``docs/attacks.md``.
"""

from ._common import dlr_loss
from .autoattack import autoattack, autoattack_components
from .cw import bounded_cw_l2
from .ead import ead_l1
from .eot import EoT, eot_loss
from .evaluate import evaluate_attack
from .multinorm import minimal_cw_l2, mixed_train_attack, train_pgd
from .pgd import PGD, pgd, pgd_train
from .result import AttackResult

__all__ = [
    "AttackResult",
    "pgd",
    "PGD",
    "pgd_train",
    "bounded_cw_l2",
    "ead_l1",
    "autoattack",
    "autoattack_components",
    "eot_loss",
    "EoT",
    "dlr_loss",
    "evaluate_attack",
    "train_pgd",
    "mixed_train_attack",
    "minimal_cw_l2",
]
