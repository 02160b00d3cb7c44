# Chapter 5 bound studies: Figure 5.2 (+ its prose points as a table), Tables 5.1 and 5.2.
#
# fig_5_2 and table_5_2 need no data (random kernels / randomly initialised torchvision networks).
# table_5_1 takes its kernels from a trained model: studies.table_5_1.checkpoint when set (the CIFAR-10
# Wide ResNet of Section 5.5 once a rule trains it: pending), else the small CNN trained by rule
# train_table_5_1_cnn on studies.table_5_1.dataset with the shared trainer (checkpoints under
# paths.checkpoints, so a killed job resumes).
T51 = config["studies"]["table_5_1"]
T51_CNN = f"{RES}/table_5_1/kernel_cnn"
# timings are the point of Tables 5.1/5.2: one GPU job at a time at the paper scale, CPU only at smoke
BOUNDS_GPU = 1 if SCALE == "paper" else 0
# config subset of the training job: only what changes the trained weights (not the timing settings)
T51_TRAIN_CFG = study_config(config, "table_5_1")
T51_TRAIN_CFG["study"] = {
    "dataset": T51["dataset"],
    "model": T51["model"],
    "train": T51["train"],
    "checkpoint_dir": f"{config['paths']['checkpoints']}/{SCALE}/table_5_1_cnn",
}


rule train_table_5_1_cnn:
    input:
        manifest=dataset_manifest(T51["dataset"]),
    output:
        model=f"{T51_CNN}/model.pt",
        result=f"{T51_CNN}/training.json",
    params:
        study="table_5_1",
        entry="train",
        cfg=T51_TRAIN_CFG,
    threads: config["threads"]
    resources:
        gpu=BOUNDS_GPU,
    log:
        f"{LOGS}/train_table_5_1_cnn.log",
    benchmark:
        f"{BENCH}/train_table_5_1_cnn.tsv"
    conda:
        TORCH_ENV
    script:
        "../scripts/job.py"


register_study("fig_5_2", threads=config["threads"])
register_figure(
    "fig_5_2",
    "fig_5_2",
    {
        "result": study_result("fig_5_2"),
        "reference": "reference/figure_data/fig5_2_lipbound_gap_gamma_vs_input_size.csv",
    },
)
# the thesis's prose numbers about Figure 5.2 (Gamma(50), Gamma(224)) beside ours
register_table("fig_5_2", [study_result("fig_5_2")])

if T51["checkpoint"]:
    register_study("table_5_1", inputs={"model": T51["checkpoint"]}, threads=config["threads"], gpu=BOUNDS_GPU)
else:
    register_study(
        "table_5_1",
        inputs={"model": f"{T51_CNN}/model.pt", "training": f"{T51_CNN}/training.json"},
        threads=config["threads"],
        gpu=BOUNDS_GPU,
    )
register_table("table_5_1", [study_result("table_5_1")])

register_study("table_5_2", threads=config["threads"], gpu=BOUNDS_GPU)
register_table("table_5_2", [study_result("table_5_2")])
