"""Run a study (or draw its figure) from Snakemake or from the command line, with provenance.

Snakemake rules call ``workflow/scripts/job.py``, which hands its ``snakemake`` object to
:func:`run_from_snakemake`. The CLI (``toeplitznet run``) builds the same :class:`StudyContext` from a
config file and ``key=value`` overrides, so a study behaves identically in both.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..io import atomic_write_text, to_jsonable
from ..report.provenance import Provenance
from . import load_study, study_outputs

log = logging.getLogger("toeplitznet")


@dataclass
class StudyContext:
    """Everything a study function may use; it never reads global state.

    Attributes
    ----------
    study : name in :data:`toeplitznet.studies.STUDIES`.
    cfg : the resolved config subset (``scale``, ``seed``, ``device``, ``threads``, ``data``, ``study``).
    inputs, outputs : named paths (``inputs`` values may be lists).
    prov : the job's :class:`~toeplitznet.report.provenance.Provenance`.
    """

    study: str
    cfg: dict[str, Any]
    inputs: dict[str, Any]
    outputs: dict[str, str]
    prov: Provenance
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def scale(self) -> str:
        return self.cfg["scale"]

    @property
    def seed(self) -> int:
        return int(self.cfg["seed"])

    @property
    def params(self) -> dict[str, Any]:
        """The study's own config section."""
        return self.cfg["study"]

    def output(self, name: str) -> Path:
        if name not in self.outputs:
            raise KeyError(f"study {self.study}: no output named {name!r} (have {sorted(self.outputs)})")
        return Path(self.outputs[name])

    def input(self, name: str) -> Any:
        if name not in self.inputs:
            raise KeyError(f"study {self.study}: no input named {name!r} (have {sorted(self.inputs)})")
        return self.inputs[name]

    def input_files(self) -> list[str]:
        out: list[str] = []
        for v in self.inputs.values():
            out.extend([str(x) for x in v] if isinstance(v, (list, tuple)) else [str(v)])
        return out

    def write_result(self, name: str, data: Mapping[str, Any]) -> Path:
        """Write a result JSON (adds ``scale``) atomically, with its provenance sidecar. A result with
        ``cells`` is validated against the result schema first (:func:`validate_result`)."""
        payload = {"scale": self.scale, **to_jsonable(dict(data))}
        path = self.output(name)
        if "cells" in payload:
            validate_result(payload, where=f"study {self.study}, output {name} ({path})")
        self.prov.write_json(path, payload)
        log.info("wrote %s", path)
        return path

    def torch_device(self):
        """``torch.device`` from ``cfg['device']`` (``auto`` = CUDA when available); sets CPU threads."""
        from ..runtime import resolve_device

        return resolve_device(self.cfg.get("device", "auto"), self.threads, who=f"study {self.study}")

    @property
    def threads(self) -> int:
        """CPU threads of the job (Snakemake's ``threads``; 1 for a standalone run unless set)."""
        return int(self.extra.get("threads") or self.cfg.get("threads") or 1)

    def seed_everything(self, offset: int = 0) -> int:
        from ..runtime import seed_everything

        return seed_everything(self.seed + offset)


@lru_cache(maxsize=1)
def _result_validator():
    import jsonschema
    import yaml

    from ..reference import project_root

    schema = yaml.safe_load((project_root() / "workflow" / "schemas" / "result.schema.yaml").read_text())
    return jsonschema.Draft202012Validator(schema)


def validate_result(payload: Mapping[str, Any], where: str = "result") -> None:
    """Check a result against ``workflow/schemas/result.schema.yaml`` (``{item, scale, cells: [{row, column,
    value, ...}]}``); ``ValueError`` naming ``where`` and the offending field."""
    errors = sorted(_result_validator().iter_errors(dict(payload)), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [f"{'/'.join(map(str, e.absolute_path)) or '<top level>'}: {e.message}" for e in errors[:10]]
        raise ValueError(f"{where}: result does not match workflow/schemas/result.schema.yaml\n  " + "\n  ".join(lines))


def _setup_logging(log_file: str | None, keep_attempts: bool = False) -> None:
    """Log to stderr and ``log_file``; with ``keep_attempts`` also append to ``<log_file>.attempts``, which
    Snakemake never deletes, so the log of a killed or failed attempt survives the rerun."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w"))
        if keep_attempts:
            attempts = logging.FileHandler(f"{log_file}.attempts", mode="a")
            attempts.stream.write(f"\n===== attempt started {time.strftime('%Y-%m-%dT%H:%M:%S')} "
                                  f"(pid {os.getpid()}) =====\n")
            handlers.append(attempts)
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def remove_stale_sidecars(outputs) -> list[str]:
    """Remove the provenance sidecars of outputs that do not exist (left by a killed or failed attempt:
    Snakemake removes the outputs of a job it reruns, not their sidecars)."""
    from ..report.provenance import sidecar_path

    removed = []
    for out in outputs:
        side = sidecar_path(out)
        if side.exists() and not Path(out).exists():
            side.unlink()
            removed.append(str(side))
    return removed


def execute(ctx: StudyContext, entry: str = "run") -> None:
    module = load_study(ctx.study)
    fn = getattr(module, entry, None)
    if fn is None:
        raise AttributeError(f"study module {module.__name__} has no {entry}()")
    t0 = time.perf_counter()
    log.info("%s.%s (scale=%s) starting", ctx.study, entry, ctx.scale)
    fn(ctx)
    log.info("%s.%s done in %.2f s", ctx.study, entry, time.perf_counter() - t0)


def _named(io) -> dict[str, Any]:
    """Named entries of a Snakemake Namedlist (unnamed ones under their index)."""
    names = dict(io.items())
    if not names:
        return {str(i): v for i, v in enumerate(io)}
    return {k: (list(v) if isinstance(v, list) else v) for k, v in names.items()}


def _job_seed(cfg: Mapping[str, Any]) -> int:
    """The seed of a job: a training run's own seed (``study.seed``, set on seed replicas) else the global one."""
    study = cfg.get("study")
    if isinstance(study, Mapping) and study.get("seed") is not None:
        return int(study["seed"])
    return int(cfg["seed"])


def run_from_snakemake(smk) -> None:
    """Entry point of ``workflow/scripts/job.py``: ``params.study``, ``params.entry`` and ``params.cfg``."""
    _setup_logging(smk.log[0] if len(smk.log) else None, keep_attempts=True)
    for side in remove_stale_sidecars(list(smk.output)):
        log.info("removed stale sidecar %s (its file was not there)", side)
    params = dict(smk.params.items())
    study, entry, cfg = params.pop("study"), params.pop("entry", "run"), params.pop("cfg")
    code = params.pop("code", None)
    prov = Provenance(rule=smk.rule, scale=cfg["scale"], config=cfg, wildcards=dict(smk.wildcards.items()),
                      params=params, inputs=[str(p) for p in smk.input], seeds=[_job_seed(cfg)], code=code,
                      threads=int(smk.threads))
    ctx = StudyContext(study=study, cfg=cfg, inputs=_named(smk.input), outputs=_named(smk.output), prov=prov,
                       extra={"threads": smk.threads, "params": params})
    try:
        execute(ctx, entry)
    except Exception:
        log.exception("%s.%s failed", study, entry)
        raise


def _maker(plan, path: str) -> str:
    """The Snakemake rule that makes ``path`` in ``plan``."""
    for name, job in plan.studies.items():
        if path in job.outputs.values():
            return f"study_{name}"
    if any(path in r.outputs.values() for r in plan.runs.values()):
        return "train_run"
    if any(path == e.output for e in plan.evals.values()):
        return "evaluate_run"
    if path.endswith("MANIFEST.json"):
        return "download"
    return "none: a file you provide"


def run_from_cli(study: str, cfg: dict[str, Any], out_dir: str | os.PathLike, entry: str = "run",
                 inputs: Mapping[str, str] | None = None) -> StudyContext:
    """Run a study outside Snakemake: outputs go to ``out_dir/<name>`` (the study's declared outputs).

    The resolved config and the default inputs are those the DAG would use (:func:`toeplitznet.plan.build_plan`);
    ``inputs`` replaces them by name. A missing input stops the run before anything is written, naming the
    input and the Snakemake target that makes it."""
    from ..plan import build_plan

    plan = build_plan(cfg)
    jobs = plan.figures if entry == "plot" else plan.studies
    if study not in jobs:
        raise KeyError(f"no {'figure' if entry == 'plot' else 'study'} named {study!r} in this config; known: "
                       f"{', '.join(sorted(jobs))}")
    subset, default_inputs = jobs[study].cfg, jobs[study].inputs
    inputs = {**default_inputs, **dict(inputs or {})}
    missing = [str(v) for v in inputs.values() if not isinstance(v, (list, tuple)) and not Path(v).exists()]
    if missing:
        shown = "; ".join(f"{m} (made by rule {_maker(plan, m)})" for m in missing[:3])
        more = f"; and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise FileNotFoundError(f"study {study}: {len(missing)} input(s) missing: {shown}{more}. Build them first "
                                f"(`snakemake --cores all {missing[0]}`), or pass --input NAME=PATH. Nothing "
                                "was written.")
    out_dir = Path(out_dir)
    outputs = {name: str(out_dir / fname) for name, fname in study_outputs(study).items()}
    out_dir.mkdir(parents=True, exist_ok=True)
    if entry == "plot":
        outputs = {k: str(out_dir / f"{study}.{k}") for k in ("pdf", "png")}
        outputs["prov"] = str(out_dir / f"{study}.provenance.json")
    _setup_logging(str(out_dir / f"{study}.{entry}.log"))
    # timm idiom: the resolved config is saved beside the outputs.
    atomic_write_text(out_dir / f"{study}.config.resolved.json", json.dumps(subset, indent=2) + "\n")
    threads = int(cfg.get("threads", 1))
    prov = Provenance(rule=f"cli:{study}.{entry}", scale=subset["scale"], config=subset,
                      inputs=list(inputs.values()), seeds=[subset["seed"]], code=jobs[study].code, threads=threads)
    ctx = StudyContext(study=study, cfg=subset, inputs=inputs, outputs=outputs, prov=prov,
                       extra={"threads": threads})
    execute(ctx, entry)
    return ctx
