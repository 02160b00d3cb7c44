# Shared setup: config validation (before any job starts), scale-specific paths and the registries that
# study families fill in (TABLES, FIGURES, STUDY_INPUTS) and render.smk consumes.
import os
import sys
from pathlib import Path

# Jobs inherit this: busy-waiting OpenMP threads stall torch on small shared machines (see README).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from snakemake.exceptions import WorkflowError
from toeplitznet.config import ConfigError, study_config, validate

# the file(s) given with --configfile override the Snakefile's default; name them in errors
_CONFIG_SOURCE = ", ".join(
    map(str, getattr(workflow, "overwrite_configfiles", None) or workflow.configfiles or ["config"])
)
try:
    validate(config, source=_CONFIG_SOURCE)
except ConfigError as exc:
    raise WorkflowError(str(exc))

SCALE = config["scale"]
RES = f"{config['paths']['results']}/{SCALE}"
DATA = config["paths"]["data"]
LOGS = f"logs/{SCALE}"
BENCH = f"benchmarks/{SCALE}"
TORCH_ENV = "../../envs/torch.yaml"

DATASETS = ["fashion_mnist", "mnist", "cifar10", "cifar100", "imagenet", "youtube8m"]


def dataset_manifest(name):
    return f"{DATA}/{name}/MANIFEST.json"


# item -> list of result files the table reads
TABLES = {}
# item -> {"study": name, "inputs": {name: path}}
FIGURES = {}
# study -> {name: input path} for the generic run_study rule (single-output studies)
STUDY_INPUTS = {}
# study -> Snakemake resources/threads hints
STUDY_THREADS = {}
STUDY_GPU = {}


def table_outputs(item):
    return [f"paper_tables/{item}.{ext}" for ext in ("csv", "md", "tex")] + [
        f"paper_tables/{item}.provenance.json"
    ]


def figure_outputs(item):
    return [f"figures/{item}.{ext}" for ext in ("pdf", "png")] + [f"figures/{item}.provenance.json"]


def study_result(study):
    return f"{RES}/{study}/{study}.json"


def register_study(study, inputs=None, threads=1, gpu=0):
    STUDY_INPUTS[study] = dict(inputs or {})
    STUDY_THREADS[study] = threads
    STUDY_GPU[study] = gpu


def register_table(item, results):
    TABLES[item] = list(results)


def register_figure(item, study, inputs):
    FIGURES[item] = {"study": study, "inputs": dict(inputs)}


def item_targets(item):
    out = []
    if item in TABLES:
        out += table_outputs(item)
    if item in FIGURES:
        out += figure_outputs(item)
    return out


def all_targets():
    missing = [i for i in config["items"] if not item_targets(i)]
    if missing:
        raise WorkflowError(f"config key items: no rule renders {', '.join(missing)}")
    targets = [t for i in config["items"] for t in item_targets(i)]
    # the download rules of this scale's datasets belong to the DAG (data.datasets)
    targets += [dataset_manifest(d) for d in config["data"]["datasets"]]
    return targets
