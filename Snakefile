# toeplitznet: one DAG from data to every data-bearing table and figure of A. Araujo's thesis.
#   snakemake --cores all                         smoke scale (config/config.yaml, the default)
#   snakemake --cores all --profile profiles/paper   paper scale (config/paper.yaml)
#   snakemake figures/fig_5_2.pdf                 one item by its file name
# All logic lives in src/toeplitznet; rules only call workflow/scripts/*.py or the toeplitznet CLI.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/theory.smk"
include: "workflow/rules/bounds.smk"
include: "workflow/rules/dcnn.smk"
include: "workflow/rules/render.smk"


rule all:
    default_target: True
    input:
        all_targets(),
