# YouTube-8M ingestion (toeplitznet.yt8m.dag): TFRecord shards -> torch-side shards, one job per shard so that
# local cores or a SLURM cluster convert in parallel. TensorFlow runs only here, in its own environment
# (envs/tensorflow.yaml), never in a process that imports torch. At smoke scale the TFRecords themselves are
# written by the pipeline (synthetic videos in the official schema); at paper scale they are the verified
# download of rule download (data.youtube8m).


rule yt8m_synthesize:
    output:
        tfrecord=f"{RES}/yt8m/tfrecords/{{level}}/{{shard}}.tfrecord",
    params:
        study="yt8m_synthesize",
        entry="run",
        cfg=lambda w: PLAN.yt8m["synthesize"][(w.level, w.shard)].cfg,
        code=lambda w: PLAN.yt8m["synthesize"][(w.level, w.shard)].code,
    wildcard_constraints:
        level="video|frame",
        shard="(train|validate)[0-9]{4}",
    log:
        f"{LOGS}/yt8m_synthesize/{{level}}/{{shard}}.log",
    benchmark:
        f"{BENCH}/yt8m_synthesize/{{level}}/{{shard}}.tsv"
    conda:
        TF_ENV
    script:
        "../scripts/job.py"


rule yt8m_ingest:
    input:
        unpack(lambda w: PLAN.yt8m["ingest"][(w.level, w.shard)].inputs),
    output:
        json=f"{RES}/yt8m/{{level}}/shards/{{shard}}.json",
        index=f"{RES}/yt8m/{{level}}/shards/{{shard}}.index.npz",
        data=f"{RES}/yt8m/{{level}}/shards/{{shard}}.{{level}}.bin",
    params:
        study="yt8m_ingest",
        entry="run",
        cfg=lambda w: PLAN.yt8m["ingest"][(w.level, w.shard)].cfg,
        code=lambda w: PLAN.yt8m["ingest"][(w.level, w.shard)].code,
    wildcard_constraints:
        level="video|frame",
        shard="(train|validate)[0-9]{4}",
    log:
        f"{LOGS}/yt8m_ingest/{{level}}/{{shard}}.log",
    benchmark:
        f"{BENCH}/yt8m_ingest/{{level}}/{{shard}}.tsv"
    conda:
        TF_ENV
    script:
        "../scripts/job.py"


rule yt8m_manifest:
    input:
        unpack(lambda w: PLAN.yt8m["manifest"][w.level].inputs),
    output:
        manifest=f"{RES}/yt8m/{{level}}/MANIFEST.json",
    params:
        study="yt8m_manifest",
        entry="run",
        cfg=lambda w: PLAN.yt8m["manifest"][w.level].cfg,
        code=lambda w: PLAN.yt8m["manifest"][w.level].code,
    wildcard_constraints:
        level="video|frame",
    log:
        f"{LOGS}/yt8m_manifest/{{level}}.log",
    benchmark:
        f"{BENCH}/yt8m_manifest/{{level}}.tsv"
    conda:
        TORCH_ENV
    script:
        "../scripts/job.py"
