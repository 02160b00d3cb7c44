"""Reading the Appendix C runs and evaluations (a ``suite`` result is unpacked into its parts), the items' hooks
and the common notes. No torch import."""

from __future__ import annotations

from typing import Any

from ..ch5_robust import _report as ch5
from . import _runs

accuracy = ch5.accuracy


def collect(study_inputs) -> ch5.Collected:
    """:class:`~toeplitznet.items.ch5_robust._report.Collected` with every suite's parts as evaluations."""
    col = ch5.Collected(study_inputs)
    for rid, per in col.evals.items():
        for seed, res in per.pop(_runs.SUITE, {}).items():
            for pid, part in res["parts"].items():
                per.setdefault(pid, {})[seed] = part
    return col


def item_hooks(item_id: str, runs_of, logical_evals, notes_of):
    """``runs``, ``evaluations``, ``inputs``, ``job_config`` of an Appendix C item from its runs, its logical
    evaluations ``{run: {eval id: spec}}`` (what its study reads) and its notes; the jobs are
    :func:`._runs.job_evals` of them (suites with ``bundle: true``)."""
    def runs(config, paths):
        return runs_of(config, paths)

    def evaluations(config, paths):
        return ch5.evaluations(runs_of(config), _runs.job_evals(config, logical_evals(config)))

    def inputs(config, paths):
        return ch5.inputs(config, paths, runs_of(config), _runs.job_evals(config, logical_evals(config)))

    def job_config(config, paths):
        from ...plan import study_config

        cfg = study_config(config, item_id)
        cfg["study"]["evals"] = logical_evals(config)
        cfg["study"]["notes"] = notes_of(config)
        cfg["study"]["scale_note"] = scale_note(config)
        return cfg

    return runs, evaluations, inputs, job_config


def scale_note(config) -> str:
    s = _runs.section(config)
    t = s["train"]
    return (f"Scale {config['scale']}: data {s['dataset']} (train subset {s['train_subset']}, test subset "
            f"{s['test_subset']}), WRN-{t['model']['depth']}-{t['model']['widen']}, "
            + (f"{t['max_steps']} steps" if t["max_steps"] else f"{t['epochs']} epochs")
            + ("" if config["scale"] == "paper" else "; smoke numbers are never a reproduction."))


def training_note(config) -> str:
    s = _runs.section(config)
    t = s["train"]
    return (f"Training (S9, L7830-7837): WRN-{t['model']['depth']}-{t['model']['widen']}, dropout "
            f"{t['model']['dropout']}, Leaky-ReLU {t['model']['leaky_slope']}, {t['epochs']} epochs"
            + (f" (capped at {t['max_steps']} steps)" if t["max_steps"] else "")
            + f", batch {t['batch_size']}, SGD momentum {t['momentum']} (Nesterov {t['nesterov']}), weight decay "
            f"{t['weight_decay']} (not stated; the author's 2e-4), lr {t['lr_values']} after steps {t['lr_boundaries']} "
            "(0.00008 as printed and in the author's config, probably meant 0.0008); noise on the image at training "
            "and test time, sds on the [-1, 1] scale (halved for our [0, 1] pixels), Laplace scale sd/sqrt(2).")


def prediction_note(config) -> str:
    p = _runs.section(config)["prediction"]
    how = ("one fresh noise draw per image (the author's code)" if p["rule"] == "single" else
           f"the {'mean softmax' if p['rule'] == 'mean_softmax' else 'most frequent class'} over {p['draws']} draws")
    return f"Accuracy of a randomised model (natural and at the attack's point): {how}."


def base_result(item: str, col: ch5.Collected, notes: list[str], params) -> dict[str, Any]:
    res = ch5.base_result(item, col, list(notes) + [params["scale_note"]])
    return res


__all__ = ["collect", "item_hooks", "scale_note", "training_note", "prediction_note", "base_result", "accuracy"]
