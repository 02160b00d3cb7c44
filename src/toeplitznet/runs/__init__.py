"""Trained runs and their evaluations as DAG outputs (rules ``train_run`` and ``evaluate_run``).

* :mod:`.train_job` – one run: build the model from its spec, read its data, train it with the shared
  trainer (resumable checkpoints outside the DAG), write ``model.pt`` (a plain state dict, loadable with
  ``torch.load(weights_only=True)``) and ``metrics.json``, each with a provenance sidecar;
* :mod:`.evaluate` – one evaluation of a trained run (``eval/<evaluation>.json``); evaluations are
  registered by kind (:data:`EVALUATIONS`, :func:`register_evaluation`).

Run specs are plain dicts expanded from the config by the items (see :mod:`toeplitznet.plan`).
"""

from .evaluate import EVALUATIONS, accuracy, load_model, register_evaluation

__all__ = ["EVALUATIONS", "register_evaluation", "load_model", "accuracy"]
