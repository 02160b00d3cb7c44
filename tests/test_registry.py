"""The item registry: every thesis item listed once, discovery without torch, the generated schema (closed
sections, required sections), the README table, and ``toeplitznet items``."""
import copy
import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from toeplitznet.config import ConfigError, full_schema, validate
from toeplitznet.reference import OWN_ITEMS
from toeplitznet.registry import IMPLEMENTED, PENDING, discover, readme_table, update_readme

ROOT = Path(__file__).resolve().parents[1]
SMOKE = yaml.safe_load((ROOT / "config/config.yaml").read_text())
PAPER = yaml.safe_load((ROOT / "config/paper.yaml").read_text())

#: the thesis's data-bearing items (INVENTORY: 34 experimental results + 3 computed theory) and ECAI Fig 2(a)
THESIS_ITEMS = (
    [f"fig_4_{i}" for i in range(2, 7)] + ["table_4_1", "table_4_2", "table_4_3", "table_4_4", "table_4_5"]
    + ["fig_5_1", "fig_5_2", "fig_5_3", "fig_5_4", "table_5_1", "table_5_2", "table_5_3", "table_5_4"]
    + [f"fig_B_{i}" for i in range(3, 10)] + ["table_B_1", "table_B_2", "table_B_3"]
    + ["fig_C_1", "fig_C_2", "fig_C_3", "table_C_1", "table_C_2"]
    + ["table_D_1", "table_D_2", "fig_D_2", "table_D_3"] + ["ecai_fig_2a"])


OWN = list(OWN_ITEMS)  # the claims check: an item of ours, not a thesis table or figure


def test_every_data_bearing_item_is_listed_once():
    reg = discover()
    assert len(THESIS_ITEMS) == 38 and OWN == ["claims"]
    assert sorted(reg.items) == sorted(THESIS_ITEMS + OWN)
    built = {i.id for i in reg.built_items()}
    assert built == set(SMOKE["items"]) == set(PAPER["items"])
    for it in (i for i in reg.items.values() if i.id not in OWN):
        assert it.kind == ("table" if it.id.startswith("table") else "figure")
        assert it.title and re.fullmatch(r"[LE]\d+(-[LE]?\d+)?", it.thesis_lines), it.id
        assert it.chapter and (it.module or it.status == PENDING)


def test_thesis_rows_of_built_items_exist():
    """Each built item's rows line up with reference/thesis_values.csv (its item id maps to rows there)."""
    from toeplitznet.reference import thesis_cells

    for it in discover().built_items():
        if it.id in OWN_ITEMS:
            assert not thesis_cells(it.id)
        elif it.kind == "table" or "table" in it.render_kinds:
            assert thesis_cells(it.id), f"{it.id}: no row in reference/thesis_values.csv"


def test_discovery_imports_neither_torch_nor_tensorflow():
    code = ("import sys; from toeplitznet.registry import discover; from toeplitznet.plan import build_plan; "
            "import yaml; cfg = yaml.safe_load(open('config/config.yaml')); p = build_plan(cfg); "
            "discover(); bad = [m for m in ('torch', 'tensorflow', 'matplotlib') if m in sys.modules]; "
            "assert not bad, bad; print(len(p.runs))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT / "src")))
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) > 0


def test_readme_item_table_is_generated_from_the_registry():
    text = (ROOT / "README.md").read_text()
    assert update_readme(text) == text, "README item table is stale: run `make readme`"
    table = readme_table()
    assert table.count("\n") == 38 + len(OWN) + 1
    assert "| Table 4.1 | ch4_dcnn |" in table and "| Table 5.3 | ch5_robust |" in table


def test_items_cli_json_lists_every_item_with_status():
    out = subprocess.run([sys.executable, "-m", "toeplitznet.cli", "items", "--json"], cwd=ROOT,
                         capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT / "src")))
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert sorted(r["item"] for r in rows) == sorted(THESIS_ITEMS + OWN)
    by = {r["item"]: r for r in rows}
    assert by["table_4_1"]["status"] == IMPLEMENTED and by["table_4_1"]["chapter"] == "ch4_dcnn"
    assert by["table_4_1"]["config_section"] == "table_4_1"
    assert "paper_tables/<scale>/table_4_1.md" in by["table_4_1"]["targets"]
    assert by["fig_4_3"]["status"] == "does not reproduce" and by["fig_4_3"]["reason"]
    assert by["table_4_3"]["status"] == IMPLEMENTED and by["table_4_3"]["config_section"] == "table_4_3"
    assert not [r["item"] for r in rows if r["status"] == PENDING]  # every data-bearing item is built
    text = subprocess.run([sys.executable, "-m", "toeplitznet.cli", "items"], cwd=ROOT, capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(ROOT / "src"))).stdout
    n_built = sum(r["status"] in (IMPLEMENTED, "does not reproduce") for r in rows)
    assert "table_4_1" in text and "ch4_dcnn" in text and f"{38 + len(OWN)} items, {n_built} built" in text


# ------------------------------------------------------------------------------------ generated schema
def _mappings(node, path):
    """Every mapping inside a config section, with its dotted path (list items by index)."""
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from _mappings(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _mappings(v, f"{path}.{i}")


@pytest.mark.parametrize("name,base", [("smoke", SMOKE), ("paper", PAPER)])
def test_a_misspelled_key_anywhere_in_a_study_section_is_an_error(name, base):
    """Every mapping of every studies.<section> is closed: an extra key fails validation, naming it."""
    n = 0
    for section in base["studies"]:
        for path, _ in list(_mappings(base["studies"][section], f"studies.{section}")):
            cfg = copy.deepcopy(base)
            node = cfg
            for part in path.split(".")[:]:
                node = node[int(part)] if isinstance(node, list) else node[part]
            node["epochz"] = 1
            with pytest.raises(ConfigError, match=re.escape(f"config key {path}") + r".*epochz"):
                validate(cfg, source=f"config/{name}.yaml", check_paths=False)
            n += 1
    assert n >= len(base["studies"])


def test_unknown_or_missing_sections_and_items(monkeypatch):
    cfg = copy.deepcopy(SMOKE)
    cfg["studies"]["fig_5_9"] = {}
    with pytest.raises(ConfigError, match=r"config key studies: .*fig_5_9"):
        validate(cfg, check_paths=False)
    cfg = copy.deepcopy(SMOKE)
    del cfg["studies"]["ch4_train"]
    with pytest.raises(ConfigError, match=r"config key studies: 'ch4_train' is a required property"):
        validate(cfg, check_paths=False)
    # a section is only required by the items that are listed
    cfg = copy.deepcopy(SMOKE)
    cfg["items"] = ["fig_5_1"]
    cfg["studies"] = {"fig_5_1": cfg["studies"]["fig_5_1"]}
    validate(cfg, check_paths=False)
    cfg = copy.deepcopy(SMOKE)
    cfg["items"] = cfg["items"] + ["table_9_9"]
    with pytest.raises(ConfigError, match=re.escape("unknown item 'table_9_9'")):
        validate(cfg, check_paths=False)
    # a pending item (none is left in the registry: one is declared here) gets its own message
    import dataclasses

    import toeplitznet.registry as registry

    real = registry.discover()
    fake = dataclasses.replace(real, items={**real.items, "table_4_3": dataclasses.replace(
        real.items["table_4_3"], status=PENDING)})
    monkeypatch.setattr(registry, "discover", lambda *a, **k: fake)
    cfg = copy.deepcopy(SMOKE)
    with pytest.raises(ConfigError, match=re.escape("table_4_3 is pending")):
        validate(cfg, check_paths=False)


def test_schema_items_enum_and_sections_come_from_the_registry():
    schema = full_schema()
    reg = discover()
    assert schema["properties"]["items"]["items"]["enum"] == [i.id for i in reg.built_items()]
    studies = schema["properties"]["studies"]
    assert studies["additionalProperties"] is False
    assert set(studies["properties"]) == set(SMOKE["studies"]) == set(PAPER["studies"])


def test_thesis_values_csv_has_a_row_for_each_table_item():
    with open(ROOT / "reference/thesis_values.csv", newline="") as fh:
        ids = {r["item"] for r in csv.DictReader(fh)}
    from toeplitznet.reference import thesis_item_id

    for it in discover().items.values():
        if it.kind == "table" and it.id not in OWN_ITEMS:
            # a table in panels has one id per panel (table_5_3a, table_5_3b)
            assert any(i == thesis_item_id(it.id) or i[:-1] == thesis_item_id(it.id) for i in ids), it.id
