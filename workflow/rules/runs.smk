# Trained runs and their evaluations as DAG outputs. One generic rule trains any run of the plan
# (results/<scale>/runs/<run>/model.pt + metrics.json, with provenance; resumable checkpoints under
# paths.checkpoints), one evaluates a trained run (results/<scale>/runs/<run>/eval/<evaluation>.json).
# Run specs and evaluation specs are expanded from the config by the items (toeplitznet.plan).


rule train_run:
    input:
        unpack(lambda w: PLAN.runs[w.run].inputs),
    output:
        model=f"{RES}/runs/{{run}}/model.pt",
        metrics=f"{RES}/runs/{{run}}/metrics.json",
    params:
        study="train_run",
        entry="run",
        cfg=lambda w: PLAN.runs[w.run].cfg,
        code=lambda w: PLAN.runs[w.run].code,
    threads: config["threads"]
    resources:
        gpu=lambda w: PLAN.runs[w.run].gpu,
    wildcard_constraints:
        run="|".join(PLAN.runs) or "NONE",
    log:
        f"{LOGS}/train_run/{{run}}.log",
    benchmark:
        f"{BENCH}/train_run/{{run}}.tsv"
    conda:
        TORCH_ENV
    script:
        "../scripts/job.py"


rule evaluate_run:
    input:
        unpack(lambda w: PLAN.evals[(w.run, w.evaluation)].inputs),
    output:
        result=f"{RES}/runs/{{run}}/eval/{{evaluation}}.json",
    params:
        study="evaluate_run",
        entry="run",
        cfg=lambda w: PLAN.evals[(w.run, w.evaluation)].cfg,
        code=lambda w: PLAN.evals[(w.run, w.evaluation)].code,
    threads: config["threads"]
    resources:
        gpu=lambda w: PLAN.evals[(w.run, w.evaluation)].gpu,
    wildcard_constraints:
        run="|".join(sorted({r for r, _ in PLAN.evals})) or "NONE",
        evaluation="|".join(sorted({e for _, e in PLAN.evals})) or "NONE",
    log:
        f"{LOGS}/evaluate_run/{{run}}/{{evaluation}}.log",
    benchmark:
        f"{BENCH}/evaluate_run/{{run}}/{{evaluation}}.tsv"
    conda:
        TORCH_ENV
    script:
        "../scripts/job.py"
