"""The YouTube-8M stage of the DAG (toeplitznet.yt8m.dag): shard lists, Appendix B's split, clear errors."""
import copy

import pytest

from toeplitznet.config import load_config
from toeplitznet.plan import PlanError, build_plan
from toeplitznet.reference import project_root
from toeplitznet.yt8m import dag

SMOKE = load_config(project_root() / "config/config.yaml")


def test_smoke_stage_synthesizes_ingests_and_merges_every_shard():
    plan = build_plan(SMOKE)
    assert len(plan.yt8m["synthesize"]) == len(plan.yt8m["ingest"]) == 8    # 2 levels x (2 train + 2 validate)
    assert set(plan.yt8m["manifest"]) == {"video", "frame"}
    job = plan.yt8m["ingest"][("frame", "validate0001")]
    assert job.inputs == {"tfrecord": plan.yt8m["synthesize"][("frame", "validate0001")].outputs["tfrecord"]}
    parts = plan.yt8m["manifest"]["frame"].cfg["study"]["partitions"]
    # validate_train_shards = 1: validate0000 trains with the train split, validate0001 is held out
    assert parts == {"train0000": "train", "train0001": "train", "validate0000": "train", "validate0001": "heldout"}
    seeds = {j.cfg["study"]["seed"] for j in plan.yt8m["synthesize"].values()}
    assert len(seeds) == 8                                              # one seed per shard, one prototype world
    assert {j.cfg["study"]["world_seed"] for j in plan.yt8m["synthesize"].values()} == {0}


def test_appendix_b_split_bound():
    assert dag.partition_of("train", 3843, 3224) == "train"
    assert dag.partition_of("validate", 3223, 3224) == "train"
    assert dag.partition_of("validate", 3224, 3224) == "heldout"


def test_download_source_needs_the_level_downloaded():
    cfg = copy.deepcopy(SMOKE)
    cfg["studies"]["yt8m_data"].update(source="download", validate_train_shards=3224)
    cfg["data"]["youtube8m"] = {"level": "video", "partitions": ["train", "validate"], "fraction": 0.01}
    with pytest.raises(PlanError, match="data.youtube8m.level"):
        build_plan(cfg)
    cfg["data"]["youtube8m"]["level"] = ["video", "frame"]
    plan = build_plan(cfg)
    assert not plan.yt8m["synthesize"]
    job = next(iter(plan.yt8m["ingest"].values()))
    assert job.inputs == {"download": "data/youtube8m/MANIFEST.json"}
    assert job.cfg["study"]["tfrecord"].startswith("data/youtube8m/")


def test_a_split_without_held_out_shards_is_refused():
    cfg = copy.deepcopy(SMOKE)
    cfg["studies"]["yt8m_data"]["validate_train_shards"] = 5
    with pytest.raises(PlanError, match="held-out"):
        build_plan(cfg)
