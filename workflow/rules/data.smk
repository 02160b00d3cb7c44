# Verified dataset downloads. Each dataset lands in <paths.data>/<dataset>/ with a MANIFEST.json listing
# every file and its sha256; a configured local mirror (data.mirror) or a system copy is used first, and
# an offline machine gets an error naming the missing file, the config key and how to obtain it.
# ImageNet is never downloaded: data.imagenet_root points at a user-given ILSVRC2012 folder.
from toeplitznet.data.registry import list_datasets


rule download:
    output:
        manifest=f"{PATHS.data}/{{dataset}}/MANIFEST.json",
    params:
        # what the dataset is (a change reruns it); where its files come from (data.mirror,
        # data.allow_download) is read from the config by the script: the checksums decide, not the source
        dataset="{dataset}",
        imagenet_root=config["data"]["imagenet_root"],
        youtube8m=config["data"]["youtube8m"],
    wildcard_constraints:
        dataset="|".join(list_datasets()),
    log:
        f"{LOGS}/download/{{dataset}}.log",
    benchmark:
        f"{BENCH}/download/{{dataset}}.tsv"
    conda:
        TORCH_ENV
    script:
        "../scripts/download.py"
