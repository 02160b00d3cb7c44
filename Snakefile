# toeplitznet: one DAG from data to every data-bearing table and figure of A. Araujo's thesis.
#   snakemake --cores all                            smoke scale (config/config.yaml, the default)
#   snakemake --cores all --profile profiles/paper   paper scale (config/paper.yaml)
#   snakemake figures/smoke/fig_5_2.pdf              one item by its file name
# The DAG is data (toeplitznet.plan, built from the item registry toeplitznet.registry); rules only call
# workflow/scripts/*.py, which call into src/toeplitznet.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/studies.smk"
include: "workflow/rules/runs.smk"
include: "workflow/rules/youtube8m.smk"
include: "workflow/rules/render.smk"


rule all:
    default_target: True
    input:
        PLAN.targets(),
