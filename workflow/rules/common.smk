# Shared setup: config validation (before any job starts) and the DAG as plain data (toeplitznet.plan),
# built from the item registry (toeplitznet.registry). Rule files only read PLAN; none depends on another's
# definitions, so their include order does not matter.
import os
import sys
from pathlib import Path

# Jobs inherit this: busy-waiting OpenMP threads stall torch on small shared machines (see README).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from snakemake.exceptions import WorkflowError
from toeplitznet.config import ConfigError, coerce_overrides, validate
from toeplitznet.plan import PlanError, build_plan

# the file(s) given with --configfile override the Snakefile's default; name them in errors
_CONFIG_SOURCE = ", ".join(
    map(str, getattr(workflow, "overwrite_configfiles", None) or workflow.configfiles or ["config"])
)
# --config values: Snakemake leaves nested ones as strings ('5'); parse them as YAML, and name the command
# line, not the config file, when one of them is invalid
_OVERRIDES = getattr(workflow, "config_settings", None)
_OVERRIDES = dict(getattr(_OVERRIDES, "overwrite_config", None) or {})
_CLI_KEYS = coerce_overrides(config, _OVERRIDES)
try:
    validate(config, source=_CONFIG_SOURCE, cli_keys=_CLI_KEYS)
    PLAN = build_plan(config)
except (ConfigError, PlanError) as exc:
    raise WorkflowError(f"{_CONFIG_SOURCE}: {exc}" if isinstance(exc, PlanError) else str(exc))

PATHS = PLAN.paths
SCALE = PATHS.scale
RES = PATHS.results
LOGS = PATHS.logs
BENCH = PATHS.benchmarks
TORCH_ENV = "../../envs/torch.yaml"
TF_ENV = "../../envs/tensorflow.yaml"
