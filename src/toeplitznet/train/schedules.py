"""Learning-rate schedules as pure functions of the optimizer step.

The learning rate of update ``k`` (0-based: ``k`` updates already done) depends
only on ``k`` and on the config, so a schedule carries no state that could drift
on resume; the trainer sets ``param_group["lr"]`` before every update.
"""

from __future__ import annotations

import bisect
import math

from .config import TrainConfig, normalize_schedule

__all__ = ["LRSchedule", "schedule_report"]


class LRSchedule:
    """Learning rate as a function of the 0-based update index.

    Parameters
    ----------
    spec : dict
        A schedule spec (see :func:`toeplitznet.train.config.normalize_schedule`).
    base_lr : float
        The config's ``lr``.
    steps_per_epoch : int
        Optimizer updates per epoch (``len(train_loader)``); converts epoch units.
    batch_size : int
        Nominal batch size; the exponential schedule counts ``k * batch_size``
        examples before update ``k``.
    """

    #: at most this many decays of a staircase exponential schedule are listed
    MAX_LISTED = 10_000

    def __init__(self, spec: dict, base_lr: float, steps_per_epoch: int, batch_size: int):
        if steps_per_epoch < 1:
            raise ValueError(f"steps_per_epoch must be >= 1, got {steps_per_epoch}")
        self.spec = normalize_schedule(spec, base_lr)
        self.base_lr = float(base_lr)
        self.steps_per_epoch = int(steps_per_epoch)
        self.batch_size = int(batch_size)
        kind = self.spec["type"]
        # step index of the first update that uses each new value
        if kind == "piecewise":
            if self.spec["unit"] == "step":
                self._steps = list(self.spec["boundaries"])
            else:
                self._steps = [int(round(b * self.steps_per_epoch)) for b in self.spec["boundaries"]]
        elif kind == "multistep":
            self._steps = [m * self.steps_per_epoch for m in self.spec["milestones"]]
        else:
            self._steps = []

    @classmethod
    def from_config(cls, config: TrainConfig, steps_per_epoch: int) -> "LRSchedule":
        return cls(config.schedule, config.lr, steps_per_epoch, config.batch_size)

    @property
    def unit(self) -> str:
        s = self.spec
        if s["type"] == "piecewise":
            return s["unit"]
        if s["type"] == "multistep":
            return "epoch"
        if s["type"] == "exponential":
            return "examples"
        return "step"

    def __call__(self, step: int) -> float:
        return self.lr_at(step)

    def lr_at(self, step: int) -> float:
        """Learning rate used by the update with 0-based index ``step``."""
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        s = self.spec
        if s["type"] == "constant":
            return self.base_lr
        if s["type"] == "piecewise":
            return s["values"][bisect.bisect_right(self._steps, step)]
        if s["type"] == "multistep":
            return self.base_lr * s["gamma"] ** bisect.bisect_right(self._steps, step)
        ratio = step * self.batch_size / s["every_examples"]
        if s["staircase"]:
            ratio = (step * self.batch_size) // s["every_examples"]
        return self.base_lr * s["decay"] ** ratio

    def boundary_steps(self, total_steps: int | None = None) -> list[int]:
        """0-based index of the first update using each new learning rate.

        For a staircase exponential schedule the decays are unbounded, so
        ``total_steps`` is required and only decays up to it (plus the next one)
        are listed.
        """
        s = self.spec
        if s["type"] in ("piecewise", "multistep"):
            return list(self._steps)
        if s["type"] == "exponential" and s["staircase"]:
            if total_steps is None:
                raise ValueError("total_steps is required for an exponential schedule")
            out, j = [], 1
            while len(out) < self.MAX_LISTED:
                k = math.ceil(j * s["every_examples"] / self.batch_size)
                out.append(k)
                if k >= total_steps:
                    return out
                j += 1
            return out
        return []

    def report(self, total_steps: int) -> dict:
        """Which boundaries a run of ``total_steps`` updates actually reaches.

        A boundary counts as reached when at least one update used the new value,
        i.e. when ``total_steps > boundary_step``.

        Returns
        -------
        dict
            JSON-serialisable: ``type``, ``unit``, ``boundaries`` (in ``unit``),
            ``boundary_steps``, ``reached`` / ``not_reached`` (in ``unit``),
            ``reached_steps``, ``n_reached``, ``total_steps``, ``lr_first``,
            ``lr_last`` (learning rate of the last update).
        """
        total_steps = int(total_steps)
        steps = self.boundary_steps(total_steps)
        s = self.spec
        if s["type"] == "piecewise":
            labels = list(s["boundaries"])
        elif s["type"] == "multistep":
            labels = list(s["milestones"])
        elif s["type"] == "exponential" and s["staircase"]:
            labels = [j * s["every_examples"] for j in range(1, len(steps) + 1)]
        else:
            labels = []
        reached = [lab for lab, k in zip(labels, steps) if total_steps > k]
        not_reached = [lab for lab, k in zip(labels, steps) if total_steps <= k]
        return {
            "type": s["type"],
            "unit": self.unit,
            "boundaries": labels,
            "boundary_steps": steps,
            "reached": reached,
            "not_reached": not_reached,
            "reached_steps": [k for k in steps if total_steps > k],
            "n_reached": len(reached),
            "total_steps": total_steps,
            "lr_first": self.lr_at(0),
            "lr_last": self.lr_at(max(total_steps - 1, 0)),
        }

    def state_dict(self) -> dict:
        return {"spec": dict(self.spec), "base_lr": self.base_lr,
                "steps_per_epoch": self.steps_per_epoch, "batch_size": self.batch_size}


def schedule_report(config: TrainConfig | dict, steps_per_epoch: int) -> dict:
    """Plan of a run before training: the :meth:`LRSchedule.report` for the
    number of updates the config will perform (``epochs * steps_per_epoch``,
    capped by ``max_steps``).

    Example: the thesis's Chapter 4 CIFAR-10 setting (200 epochs, 250 steps per
    epoch, boundaries at 40K/60K/80K steps) gives ``reached == [40000]``.
    """
    config = TrainConfig.from_dict(config)
    total = config.epochs * int(steps_per_epoch)
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    return LRSchedule.from_config(config, steps_per_epoch).report(total)
