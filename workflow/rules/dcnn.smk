# Chapter 4 diagonal-circulant studies: Figures 4.2-4.6, ECAI Figure 2(a), Tables 4.1, 4.2, 4.5.
#
# Every item's config section is expanded by toeplitznet.studies.ch4_runs (pure Python, no torch) into
# training runs; a run shared by several items (e.g. the 2- and 5-layer DCNNs of Table 4.1, Figure 4.2 and
# Figure 4.5) is one job of the generic rule train_ch4, whose checkpoints (paths.checkpoints) let a killed
# job resume. The item studies only aggregate run metrics (rule run_study) and render (render.smk).
# Figure 4.3 needs no data: it trains its small linear networks inside its own study.
from toeplitznet.studies import ch4_runs

try:
    ch4_runs.check_config(config)
except ValueError as exc:
    raise WorkflowError(f"{_CONFIG_SOURCE}: {exc}")
CH4_RUNS = ch4_runs.expand_runs(config)
CH4 = f"{RES}/ch4_runs"
CH4_SCATTERING = f"{RES}/ch4_scattering"
CH4_COUNTS = f"{RES}/param_counts_ch4"
# one GPU job at a time at the paper scale (profiles declare resources gpu=1); CPU only at smoke
CH4_GPU = 1 if SCALE == "paper" else 0
CH4_TABLES = ["table_4_1", "table_4_2", "table_4_5"]
CH4_REFERENCE = {
    "fig_4_2": "reference/figure_data/fig4_2_dcnn_cifar10_leaky_relu_slope.csv",
    "fig_4_3": "reference/figure_data/fig4_3_acdc_vs_dcnn_regression_training_loss.csv",
    "fig_4_4": "reference/figure_data/fig4_4_acdc_vs_dcnn_cifar10_curves.csv",
    "fig_4_5": "reference/figure_data/fig4_5_cifar10_structured_networks_size_vs_accuracy.csv",
    "fig_4_6": "reference/figure_data/fig4_6_scattering_structured_layers_size_vs_accuracy.csv",
}
CH4_SCATTERING_CFG = ch4_runs.scattering_config(config)


rule train_ch4:
    input:
        unpack(lambda w: ch4_runs.run_inputs(CH4_RUNS[w.run], f"{CH4_SCATTERING}/features.pt", dataset_manifest)),
    output:
        metrics=f"{CH4}/{{run}}/metrics.json",
    params:
        study="ch4_train",
        entry="run",
        cfg=lambda w: ch4_runs.job_config(config, w.run, CH4_RUNS),
    threads: config["threads"]
    resources:
        gpu=CH4_GPU,
    wildcard_constraints:
        run="|".join(CH4_RUNS) or "NONE",
    log:
        f"{LOGS}/train_ch4/{{run}}.log",
    benchmark:
        f"{BENCH}/train_ch4/{{run}}.tsv"
    conda:
        TORCH_ENV
    script:
        "../scripts/job.py"


rule ch4_scattering:
    input:
        manifest=dataset_manifest(CH4_SCATTERING_CFG["study"]["source"]),
    output:
        features=f"{CH4_SCATTERING}/features.pt",
        result=f"{CH4_SCATTERING}/ch4_scattering.json",
    params:
        study="ch4_scattering",
        entry="run",
        cfg=CH4_SCATTERING_CFG,
    threads: config["threads"]
    resources:
        gpu=CH4_GPU,
    log:
        f"{LOGS}/ch4_scattering.log",
    benchmark:
        f"{BENCH}/ch4_scattering.tsv"
    conda:
        TORCH_ENV
    script:
        "../scripts/job.py"


rule param_counts_ch4:
    input:
        reference=CH4_REFERENCE["fig_4_2"],
    output:
        result=f"{CH4_COUNTS}/param_counts_ch4.json",
        table_4_1=f"{CH4_COUNTS}/table_4_1.json",
        table_4_2=f"{CH4_COUNTS}/table_4_2.json",
        table_4_5=f"{CH4_COUNTS}/table_4_5.json",
    params:
        study="param_counts_ch4",
        entry="run",
        cfg=ch4_runs.counts_config(config, study_config(config, "param_counts_ch4")),
    log:
        f"{LOGS}/param_counts_ch4.log",
    benchmark:
        f"{BENCH}/param_counts_ch4.tsv"
    conda:
        TORCH_ENV
    script:
        "../scripts/job.py"


# item studies: aggregate the runs' metrics into cells and curves (generic rule run_study)
for _item in ["fig_4_2", "ecai_fig_2a", "fig_4_4", "fig_4_5"] + CH4_TABLES:
    register_study(_item, inputs={run: f"{CH4}/{run}/metrics.json" for run in ch4_runs.item_runs(config, _item)})
register_study("fig_4_3")

for _item in CH4_TABLES:
    register_table(_item, [study_result(_item), f"{CH4_COUNTS}/{_item}.json"])

for _item in ["fig_4_2", "fig_4_3", "fig_4_4", "fig_4_5"]:
    register_figure(_item, _item, {"result": study_result(_item), "reference": CH4_REFERENCE[_item]})
register_figure("ecai_fig_2a", "ecai_fig_2a", {"result": study_result("ecai_fig_2a")})
# Figure 4.6 shows the six networks of Table 4.5: drawn from that table's result
register_figure("fig_4_6", "fig_4_6", {"result": study_result("table_4_5"), "reference": CH4_REFERENCE["fig_4_6"]})
