# One rule per study job of the plan: every item with its own study and every auxiliary study of the
# registry (toeplitznet.registry). Inputs, outputs, the resolved config subset, threads and GPUs all come
# from toeplitznet.plan; the job itself is toeplitznet.studies.runner via workflow/scripts/job.py.
for _name, _job in PLAN.studies.items():

    rule:
        name:
            f"study_{_name}"
        input:
            **_job.inputs,
        output:
            **_job.outputs,
        params:
            study=_name,
            entry="run",
            cfg=_job.cfg,
            code=_job.code,
        threads: _job.threads
        resources:
            gpu=_job.gpu,
        log:
            f"{LOGS}/study/{_name}.log",
        benchmark:
            f"{BENCH}/study/{_name}.tsv"
        conda:
            TORCH_ENV
        script:
            "../scripts/job.py"
