"""The DAG as plain data: every study, trained run, evaluation, table and figure a config asks for.

:func:`build_plan` turns a validated config and the item registry into a :class:`Plan`; the Snakemake rules
(``workflow/rules/*.smk``) only read it, so the whole DAG can be inspected and tested without Snakemake
and without torch. Paths are scale-separated (:class:`Paths`): results under ``results/<scale>/``, renders
under ``paper_tables/<scale>/`` and ``figures/<scale>/``, logs under ``logs/<scale>/``.

Trained runs are first-class outputs: ``results/<scale>/runs/<run>/model.pt`` and ``metrics.json`` (rule
``train_run``), and an evaluation of a run is ``results/<scale>/runs/<run>/eval/<evaluation>.json`` (rule
``evaluate_run``). A run spec is a dict::

    {"id": run_id, "inputs": {name: path}, "model": build_model spec, "data": {...}, "train": TrainConfig dict,
     "labels": {...}, "count": {...}, "gpu": bool}

(see :mod:`toeplitznet.runs.train_job` for the ``data`` keys).

Seeds: every run is trained once per training seed of config key ``seeds`` (default ``[seed]``; a run spec may
carry its own ``seeds``). The run of seed ``seed`` keeps its id; the others are replicas ``<run>__seed<k>``
(same data subsets, other initialisation and batch order), and every study or figure input that names a run's
files also gets the replicas' files (input ``<name>__seed<k>``), so that items aggregate mean ± std over seeds
(:mod:`toeplitznet.runs.seeds`). Adding seeds to a finished config retrains only the new replicas.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .codehash import job_code
from .registry import Item, Registry, Study, discover
from .runs.seeds import SEED_SEP

__all__ = ["build_plan", "Plan", "Paths", "PlanError", "study_config", "run_job_config", "StudyJob", "RunJob",
           "EvalJob", "FigureJob", "training_seeds", "replica_id", "SEED_SEP"]

TABLE_EXTS = ("csv", "md", "tex", "html")
RUNNER = "toeplitznet.studies.runner"
JOB_SCRIPT = "workflow/scripts/job.py"
FIGURE_EXTS = ("pdf", "png")


class PlanError(ValueError):
    """A config that the registry cannot turn into a DAG (the message names the config key)."""


class Paths:
    """Every path of one scale (pure functions of the config)."""

    def __init__(self, config: Mapping[str, Any], reg: Registry | None = None):
        self.scale = config["scale"]
        p = config.get("paths", {})
        self.results = f"{p.get('results', 'results')}/{self.scale}"
        self.data = p.get("data", "data")
        self.checkpoints = f"{p.get('checkpoints', 'work/checkpoints')}/{self.scale}"
        self.tables = f"paper_tables/{self.scale}"
        self.figures = f"figures/{self.scale}"
        self.logs = f"logs/{self.scale}"
        self.benchmarks = f"logs/{self.scale}/benchmarks"
        self._reg = reg

    # ---------------------------------------------------------------- results
    def study_outputs(self, job: Item | Study) -> dict[str, str]:
        name = job.id if isinstance(job, Item) else job.name
        return {k: f"{self.results}/{name}/{v}" for k, v in job.study_outputs.items()}

    def result(self, study: str, output: str = "result") -> str:
        """Path of output ``output`` of study ``study``."""
        reg = self._reg or discover()
        job = reg.job(study)
        outs = self.study_outputs(job)
        if output not in outs:
            raise KeyError(f"study {study} has no output {output!r} (has {sorted(outs)})")
        return outs[output]

    def run(self, run_id: str, file: str = "model.pt") -> str:
        return f"{self.results}/runs/{run_id}/{file}"

    def evaluation(self, run_id: str, eval_id: str) -> str:
        return f"{self.results}/runs/{run_id}/eval/{eval_id}.json"

    def manifest(self, dataset: str) -> str:
        return f"{self.data}/{dataset}/MANIFEST.json"

    @staticmethod
    def reference(name: str) -> str:
        return f"reference/figure_data/{name}"

    # ---------------------------------------------------------------- renders
    def table_outputs(self, item: str) -> dict[str, str]:
        out = {ext: f"{self.tables}/{item}.{ext}" for ext in TABLE_EXTS}
        out["prov"] = f"{self.tables}/{item}.provenance.json"
        return out

    def figure_outputs(self, item: str) -> dict[str, str]:
        out = {ext: f"{self.figures}/{item}.{ext}" for ext in FIGURE_EXTS}
        out["prov"] = f"{self.figures}/{item}.provenance.json"
        return out

    def item_targets(self, item: Item) -> list[str]:
        out: list[str] = []
        if "table" in item.render_kinds:
            out += list(self.table_outputs(item.id).values())
        if "figure" in item.render_kinds:
            out += list(self.figure_outputs(item.id).values())
        return out

    def planned_targets(self, item: Item) -> list[str]:
        """What a pending item will render (its kind's files)."""
        return self.item_targets(item)


@dataclass
class StudyJob:
    """One study job (rule ``study_<name>``): its inputs, outputs, resolved config, threads and GPUs."""

    name: str
    inputs: dict[str, Any]
    outputs: dict[str, str]
    cfg: dict[str, Any]
    threads: int
    gpu: int
    code: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunJob:
    """One training run (rule ``train_run``): inputs, ``model.pt`` / ``metrics.json`` outputs, the resolved spec, the items sharing it."""

    id: str
    inputs: dict[str, str]
    outputs: dict[str, str]
    cfg: dict[str, Any]
    threads: int
    gpu: int
    items: list[str] = field(default_factory=list)
    code: dict[str, Any] = field(default_factory=dict)


@dataclass
class EvalJob:
    """One evaluation of a trained run (rule ``evaluate_run``)."""

    run: str
    evaluation: str
    inputs: dict[str, str]
    output: str
    cfg: dict[str, Any]
    threads: int
    gpu: int
    code: dict[str, Any] = field(default_factory=dict)


@dataclass
class FigureJob:
    """One figure (rule ``render_figure``): the item whose ``plot`` draws it, its inputs and config."""

    item: str
    inputs: dict[str, Any]
    cfg: dict[str, Any]
    code: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """The whole DAG of one config: studies, runs, evaluations, tables and figures, and the targets of ``rule all``."""

    config: dict[str, Any]
    paths: Paths
    registry: Registry
    items: list[str]
    studies: dict[str, StudyJob]
    runs: dict[str, RunJob]
    evals: dict[tuple[str, str], EvalJob]
    tables: dict[str, list[str]]
    figures: dict[str, FigureJob]
    table_code: dict[str, Any] = field(default_factory=dict)
    scale_deviations: list[str] = field(default_factory=list)
    #: the YouTube-8M stage (:func:`toeplitznet.yt8m.dag.ingestion_jobs`): synthesize / ingest / manifest jobs
    yt8m: dict[str, dict[Any, Any]] = field(default_factory=lambda: {"synthesize": {}, "ingest": {}, "manifest": {}})

    def item_targets(self, item_id: str) -> list[str]:
        return self.paths.item_targets(self.registry.item(item_id))

    def title(self, item_id: str) -> str:
        """'Table 4.1: dense / DCNN / LDR on flattened CIFAR-10 (thesis L4854-4877)'."""
        from .registry import pretty_id

        it = self.registry.item(item_id)
        return f"{pretty_id(it.id)}: {it.title}" + (f" (thesis {it.thesis_lines})" if it.thesis_lines else "")

    def render_targets(self) -> list[str]:
        return [t for i in self.items for t in self.item_targets(i)]

    def targets(self) -> list[str]:
        """``rule all``: every render of the requested items and the manifests of ``data.datasets``."""
        return self.render_targets() + [self.paths.manifest(d) for d in self.config["data"]["datasets"]]


# ------------------------------------------------------------------------------------------ configs
def job_base(config: Mapping[str, Any]) -> dict[str, Any]:
    """The global keys every job's resolved config carries: what can change its numbers. CPU threads (a
    Snakemake resource of the job) and the data settings (datasets reach jobs as verified files through
    their manifests) are not part of it, so changing them reruns nothing."""
    return {"scale": config["scale"], "seed": config["seed"], "device": config["device"]}


def study_config(config: Mapping[str, Any], section: str | None) -> dict[str, Any]:
    """A study's resolved config: the global keys plus its own section (``{}`` when it has none)."""
    studies = config.get("studies", {})
    if section is not None and section not in studies:
        raise PlanError(f"config key studies.{section}: missing")
    return {**job_base(config), "study": copy.deepcopy(studies[section]) if section else {}}


def spec_hash(obj: Any) -> str:
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:10]


TRAIN_CODE = (["toeplitznet.runs.train_job", RUNNER], [JOB_SCRIPT])


def run_job_config(config: Mapping[str, Any], spec: Mapping[str, Any], paths: Paths) -> dict[str, Any]:
    """Resolved config of a training run: the spec (without its input paths) and a checkpoint folder whose
    name carries a hash of everything that defines the run and of the training code, so a changed setting or
    changed code starts afresh instead of reusing an old finished run."""
    body = {k: copy.deepcopy(v) for k, v in spec.items() if k not in ("inputs", "gpu")}
    hashed = ("model", "data", "train", "count") + (("robust",) if body.get("robust") else ())
    h = spec_hash({**{k: body.get(k) for k in hashed},
                   "code": job_code(*TRAIN_CODE)["sha256"]})
    body["checkpoint_dir"] = f"{paths.checkpoints}/runs/{spec['id']}-{h}"
    return {**job_base(config), "study": body}


def training_seeds(config: Mapping[str, Any], spec: Mapping[str, Any] | None = None) -> list[int]:
    """The training seeds of a run: its spec's ``seeds``, else config ``seeds``, else ``[seed]``; the global
    ``seed`` is always among them (its run keeps the plain id)."""
    seeds = (spec or {}).get("seeds") or config.get("seeds") or [config["seed"]]
    seeds = [int(s) for s in seeds]
    if len(set(seeds)) != len(seeds):
        raise PlanError(f"config key seeds: repeated seeds in {seeds}")
    if int(config["seed"]) not in seeds:
        raise PlanError(f"config key seeds: {seeds} must contain the global seed {config['seed']} (its runs keep "
                        "their plain ids; the others are replicas)")
    return [int(config["seed"])] + [s for s in seeds if s != int(config["seed"])]


def replica_id(run_id: str, seed: int, config: Mapping[str, Any]) -> str:
    """Id of the run ``run_id`` trained with seed ``seed``: ``run_id`` itself for the global seed."""
    return run_id if int(seed) == int(config["seed"]) else f"{run_id}{SEED_SEP}{int(seed)}"


def replica_spec(spec: Mapping[str, Any], seed: int, config: Mapping[str, Any]) -> dict[str, Any]:
    """The run spec trained with ``seed`` (model init and training order seeded by it); the spec itself, minus
    its ``seeds``, for the global seed."""
    out = copy.deepcopy(dict(spec))
    out.pop("seeds", None)
    if int(seed) == int(config["seed"]):
        return out
    rid = replica_id(spec["id"], seed, config)
    out["id"] = rid
    out["replica_of"] = spec["id"]
    out["seed"] = int(seed)
    if isinstance(out.get("model"), dict) and "seed" in out["model"]:
        out["model"]["seed"] = int(seed)
    if isinstance(out.get("train"), dict):
        out["train"]["seed"] = int(seed)
        if isinstance(out["train"].get("meta"), dict) and "run" in out["train"]["meta"]:
            out["train"]["meta"]["run"] = rid
    return out


def _with_replicas(inputs: Mapping[str, Any], files: Mapping[str, list[tuple[int, str]]]) -> dict[str, Any]:
    """``inputs`` plus, after each input that is a run's (or its evaluation's) file, the same file of every
    replica of that run, named ``<input>__seed<k>``."""
    out: dict[str, Any] = {}
    for name, value in inputs.items():
        out[name] = value
        if isinstance(value, str) and value in files:
            for seed, path in files[value]:
                out[f"{name}{SEED_SEP}{seed}"] = path
    return out


def _nproc(spec: Mapping[str, Any]) -> int:
    """Processes of a training run (``robust.nproc``: torchrun DDP, one GPU each, when > 1)."""
    return max(1, int((spec.get("robust") or {}).get("nproc", 1)))


def _threads(config: Mapping[str, Any], value: int | str) -> int:
    return int(config["threads"]) if value == "config" else int(value)


def _gpu(config: Mapping[str, Any], wants: bool) -> int:
    return int(config.get("resources", {}).get("gpu", 0)) if wants else 0


# ------------------------------------------------------------------------------------------ plan
def _has_sections(config: Mapping[str, Any], names) -> bool:
    studies = config.get("studies", {})
    return all(n in studies for n in names)


def _study_job(config, reg: Registry, paths: Paths, job: Item | Study,
               replica_files: Mapping[str, list[tuple[int, str]]] | None = None) -> StudyJob:
    name = job.id if isinstance(job, Item) else job.name
    inputs_fn = reg.hook(name, "inputs")
    cfg_fn = reg.hook(name, "job_config")
    inputs = _with_replicas(inputs_fn(config, paths), replica_files or {}) if inputs_fn else {}
    cfg = cfg_fn(config, paths) if cfg_fn else study_config(config, job.config_section)
    return StudyJob(name=name, inputs=inputs, outputs=paths.study_outputs(job), cfg=cfg,
                    threads=_threads(config, job.threads), gpu=_gpu(config, job.gpu),
                    code=job_code([reg.modules[name], RUNNER], [JOB_SCRIPT]))


def build_plan(config: Mapping[str, Any], reg: Registry | None = None) -> Plan:
    """The DAG of ``config`` (validated beforehand). Items whose config sections are absent get no jobs;
    the requested ones (``items``) must have theirs (the schema requires them)."""
    reg = reg or discover()
    config = dict(config)
    paths = Paths(config, reg)
    requested = list(config["items"])
    for i in requested:
        it = reg.item(i)
        if not it.built:
            raise PlanError(f"config key items: {i} is {it.status}" + (f" ({it.reason})" if it.reason else ""))
    active = [it for it in reg.built_items() if _has_sections(config, reg.required_sections(it.id))]
    active_ids = {it.id for it in active}
    missing = [i for i in requested if i not in active_ids]
    if missing:
        raise PlanError(f"config key studies: sections {[reg.required_sections(i) for i in missing]} "
                        f"needed by {missing}")
    runs: dict[str, RunJob] = {}
    evals: dict[tuple[str, str], EvalJob] = {}
    replicas: dict[str, list[tuple[int, str]]] = {}  # base run id -> [(seed, replica id)] (global seed excluded)
    for it in active:
        fn = reg.hook(it.id, "runs")
        for base, base_spec in (fn(config, paths) if fn else {}).items():
            if base_spec.get("id") != base:
                raise PlanError(f"item {it.id}: run spec {base} carries id {base_spec.get('id')!r}")
            seeds = training_seeds(config, base_spec)
            known = replicas.setdefault(base, [])  # two items may ask for the same run with other seeds
            known += [(s, replica_id(base, s, config)) for s in seeds[1:] if (s, replica_id(base, s, config)) not in known]
            for seed in seeds:
                spec = replica_spec(base_spec, seed, config)
                rid = spec["id"]
                cfg = run_job_config(config, spec, paths)
                if rid in runs:
                    if runs[rid].cfg != cfg:
                        raise PlanError(f"run {rid}: {it.id} asks for a different run than {runs[rid].items}")
                    runs[rid].items.append(it.id)
                    continue
                runs[rid] = RunJob(id=rid, inputs=dict(spec.get("inputs", {})),
                                   outputs={"model": paths.run(rid, "model.pt"),
                                            "metrics": paths.run(rid, "metrics.json")},
                                   cfg=cfg, threads=int(config["threads"]),
                                   gpu=_gpu(config, spec.get("gpu", False)) * _nproc(spec),
                                   items=[it.id], code=job_code(*TRAIN_CODE))
    for it in active:  # after every run (and its replicas) is known
        efn = reg.hook(it.id, "evaluations")
        for (base, eid), espec in (efn(config, paths) if efn else {}).items():
            if base not in runs:
                raise PlanError(f"item {it.id}: evaluation {eid} of unknown run {base}")
            for rid in [base] + [r for _, r in replicas.get(base, [])]:
                cfg = {**job_base(config), "study": {"run": runs[rid].cfg["study"], "evaluation": dict(espec, id=eid)}}
                if (rid, eid) in evals and evals[(rid, eid)].cfg != cfg:
                    raise PlanError(f"evaluation {eid} of run {rid}: {it.id} asks for different settings")
                evals[(rid, eid)] = EvalJob(run=rid, evaluation=eid,
                                            inputs={"model": runs[rid].outputs["model"], **runs[rid].inputs},
                                            output=paths.evaluation(rid, eid), cfg=cfg,
                                            threads=int(config["threads"]), gpu=_gpu(config, espec.get("gpu", False)),
                                            code=job_code(["toeplitznet.runs.evaluate", RUNNER,
                                                           _evaluation_module(espec["kind"])], [JOB_SCRIPT]))
    # the files of each base run (and its evaluations) -> the same files of its replicas
    replica_files: dict[str, list[tuple[int, str]]] = {}
    for base, reps in replicas.items():
        for f in ("model.pt", "metrics.json"):
            if reps:
                replica_files[paths.run(base, f)] = [(s, paths.run(r, f)) for s, r in reps]
        for (rid, eid) in list(evals):
            if rid == base and reps:
                replica_files[paths.evaluation(base, eid)] = [(s, paths.evaluation(r, eid)) for s, r in reps
                                                              if (r, eid) in evals]
    studies: dict[str, StudyJob] = {}
    for it in active:
        if it.has_own_study:
            studies[it.id] = _study_job(config, reg, paths, it, replica_files)
    for st in reg.studies.values():
        needed = ([st.config_section] if st.config_section else []) + list(st.uses)
        if _has_sections(config, needed):
            studies[st.name] = _study_job(config, reg, paths, st, replica_files)
    tables: dict[str, list[str]] = {}
    figures: dict[str, FigureJob] = {}
    deviations = _deviations(config)
    for it in active:
        if "table" in it.render_kinds:
            fn = reg.hook(it.id, "table_sources")
            tables[it.id] = list(fn(config, paths)) if fn else [paths.result(it.study)]
        if "figure" in it.render_kinds:
            fn = reg.hook(it.id, "figure_inputs")
            if fn:
                inputs = _with_replicas(fn(config, paths), replica_files)
            else:
                inputs = {"result": paths.result(it.study)}
                for k, ref in enumerate(it.reference):
                    inputs["reference" if k == 0 else f"reference{k + 1}"] = paths.reference(ref)
            fcfg = study_config(config, it.config_section)
            if deviations:
                fcfg["scale_deviations"] = deviations
            figures[it.id] = FigureJob(item=it.id, inputs=inputs, cfg=fcfg,
                                       code=job_code([reg.modules[it.id], RUNNER, "toeplitznet.report.figures"],
                                                     [JOB_SCRIPT]))
    plan = Plan(config=config, paths=paths, registry=reg, items=requested, studies=studies, runs=runs,
                evals=evals, tables=tables, figures=figures,
                table_code=job_code(["toeplitznet.report.tables"], ["workflow/scripts/render_table.py"]),
                scale_deviations=deviations)
    from .yt8m import dag as yt8m_dag

    if yt8m_dag.needed(config, reg, active):
        try:
            plan.yt8m = yt8m_dag.ingestion_jobs(config, paths, job_base(config),
                                                lambda mod: job_code([mod, RUNNER], [JOB_SCRIPT]))
        except yt8m_dag.PlanInputError as exc:
            raise PlanError(str(exc)) from exc
    return plan


def _deviations(config: Mapping[str, Any]) -> list[str]:
    """Paper-scale keys that differ from config/paper.yaml (none are reported at the smoke scale, whose
    numbers are never compared with the thesis)."""
    if config["scale"] != "paper":
        return []
    from .config import scale_deviations

    return scale_deviations(config)


def _evaluation_module(kind: str) -> str:
    from .runs.evaluate import EVALUATIONS

    if kind not in EVALUATIONS:
        raise PlanError(f"unknown evaluation kind {kind!r}; known: {', '.join(sorted(EVALUATIONS))}")
    return EVALUATIONS[kind].split(":")[0]
