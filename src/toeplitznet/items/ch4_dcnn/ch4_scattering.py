"""Scattering features of Table 4.5 / Figure 4.6, computed once (rule ``ch4_scattering``).

The thesis's "2 depth scattering on the RGB images" (L5010) is kymatio's ``Scattering2D`` with ``J``
scales and ``L`` angles (J = 2, L = 8 reproduce the parameter counts, INVENTORY section 8). The transform
is fixed, so the networks of Table 4.5 (batch norm + DC / LDR head) are trained on these features
(:mod:`toeplitznet.runs.train_job`): 15 552 per CIFAR-10 image, 3 969 per 28x28 grayscale image at the
smoke scale. Pixels are in [0, 1] (no standardisation: the batch norm that follows normalises the features).

Outputs: ``features`` (a torch file with ``train_x``, ``train_y``, ``test_x``, ``test_y``, written
atomically) and ``result`` (JSON: shapes, settings, the features file's sha256, with a provenance sidecar).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from ...registry import Study


OUTPUTS = {"features": "features.pt", "result": "ch4_scattering.json"}
STUDY = Study(name="ch4_scattering", title="scattering features of Table 4.5 / Figure 4.6 (computed once)",
              outputs=OUTPUTS, uses=("table_4_5", "ch4_train"), gpu=True, threads="config")


def _source(config) -> str:
    from . import _runs

    return _runs.data_source(config, "cifar10")


def inputs(config, paths):
    return {"manifest": paths.manifest(_source(config))}


def job_config(config, paths):
    from ...plan import job_base

    p, t = config["studies"]["table_4_5"], config["studies"]["ch4_train"]
    return {**job_base(config), "study": {
        "dataset": "cifar10", "source": _source(config), "J": int(p["J"]), "L": int(p["L"]),
        "train_subset": t["train_subset"], "test_subset": t["test_subset"], "batch_size": 500}}

log = logging.getLogger("toeplitznet.ch4")


def run(ctx) -> None:
    import torch

    from ...data import load_split
    from ...models import ScatteringNet
    from ...report.provenance import atomic_path, describe_file

    p = ctx.params
    if "source" not in p:
        raise ValueError("ch4_scattering's config is ch4_scattering.job_config(config, paths); "
                         "build it through Snakemake (rule ch4_scattering)")
    device = ctx.torch_device()
    root = Path(ctx.input("manifest")).parent
    src = p["source"]
    t0 = time.perf_counter()
    xtr, ytr = load_split(src, root, "train", subset=p["train_subset"], seed=ctx.seed)
    xte, yte = load_split(src, root, "test", subset=p["test_subset"], seed=ctx.seed)
    net = ScatteringNet(head="dense", input_shape=tuple(xtr.shape[1:]), J=p["J"], L=p["L"]).to(device)

    def features(x):
        out = []
        for i in range(0, x.shape[0], int(p["batch_size"])):
            out.append(net.features(x[i:i + int(p["batch_size"])].to(device)).float().cpu())
        return torch.cat(out)

    ftr, fte = features(xtr), features(xte)
    log.info("scattering J=%d L=%d on %s: %s train, %s test features in %.1f s", p["J"], p["L"], src,
             tuple(ftr.shape), tuple(fte.shape), time.perf_counter() - t0)
    with atomic_path(ctx.output("features")) as tmp:
        torch.save({"train_x": ftr, "train_y": ytr, "test_x": fte, "test_y": yte}, tmp)
    ctx.prov.write_sidecar(ctx.output("features"))
    ctx.write_result("result", {
        "item": "ch4_scattering", "dataset": p["dataset"], "source": src, "J": p["J"], "L": p["L"],
        "input_shape": list(xtr.shape[1:]), "n_features": int(ftr.shape[1]), "n_train": int(ftr.shape[0]),
        "n_test": int(fte.shape[0]), "features_file": describe_file(ctx.output("features")),
        "seconds": time.perf_counter() - t0,
    })
