"""Snakemake script for study and figure rules: hands the job to toeplitznet.studies.runner."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from toeplitznet.studies.runner import run_from_snakemake  # noqa: E402

run_from_snakemake(snakemake)  # noqa: F821
