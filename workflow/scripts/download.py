"""Snakemake script of rule download: verified dataset files + MANIFEST.json (see toeplitznet.data)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from toeplitznet.data.rule import run_download_rule  # noqa: E402

run_download_rule(snakemake)  # noqa: F821
