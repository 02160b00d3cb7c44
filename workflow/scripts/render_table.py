"""Snakemake script of rule render_table: ours beside the thesis, with a provenance map per table."""
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from toeplitznet.report.html import write_table_html  # noqa: E402
from toeplitznet.report.tables import render_table  # noqa: E402

smk = snakemake  # noqa: F821
logging.basicConfig(filename=smk.log[0], level=logging.INFO, force=True)
cells = render_table(smk.params.item, list(smk.input.results), dict(smk.output.items()), smk.params.tolerance,
                     thesis_csv=smk.input.thesis, extra={"code": dict(smk.params.code), "rule": smk.rule,
                            "scale_deviations": list(smk.params.scale_deviations)})
write_table_html(smk.output.html, cells, item=smk.params.item, title=smk.params.title, scale=smk.params.scale_text,
                 # the Markdown header block (caption, scale, stand-ins, seeds, commit) under the title
                 header=[line.rstrip() for line in open(smk.output.md, encoding="utf-8").read().split("\n\n")[1]
                         .splitlines()[1:]])
logging.info("%s: %d cells rendered", smk.params.item, len(cells))
