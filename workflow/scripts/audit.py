"""Snakemake script of rule audit: the audit of this scale's renders (works in any env: no console script)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from toeplitznet.report.audit import run_audit_rule  # noqa: E402

run_audit_rule(snakemake)  # noqa: F821
