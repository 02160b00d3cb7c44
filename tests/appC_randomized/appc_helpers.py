"""Hand-made Appendix C run and evaluation results laid out as a study's inputs."""
import json


def _inputs(tmp, runs, results):
    out = {}
    for name, lab in runs.items():
        p = tmp / f"{name}.json"
        p.write_text(json.dumps({"run_id": name, "labels": lab, "seed": int(name.split("__seed")[1]) if "__seed" in name else 0}))
        out[name] = str(p)
    for name, res in results.items():
        p = tmp / f"{name}.json"
        p.write_text(json.dumps(res))
        out[name] = str(p)
    return out
