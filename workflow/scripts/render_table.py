"""Snakemake script of rule render_table: ours beside the thesis, with a provenance map per table."""
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from toeplitznet.report.tables import render_table  # noqa: E402

smk = snakemake  # noqa: F821
logging.basicConfig(filename=smk.log[0], level=logging.INFO, force=True)
cells = render_table(smk.params.item, list(smk.input), dict(smk.output.items()), smk.params.tolerance)
logging.info("%s: %d cells rendered", smk.params.item, len(cells))
