"""The item registry: every thesis item, auxiliary study and shared config section, declared next to its code.

An *item* is a data-bearing table or figure of the thesis (or of the ECAI 2020 paper). It is declared by a
module of a chapter package under :mod:`toeplitznet.items` (``items/ch4_dcnn/table_4_1.py``) as::

    ITEM = Item(id="table_4_1", kind="table", title="...", thesis_lines="L4854-4877",
                status=IMPLEMENTED, schema=SCHEMA)

plus the functions the DAG calls (all optional, pure Python, no torch at import time)::

    inputs(config, paths) -> {name: path}          inputs of the item's study job (rule study_<item>)
    runs(config, paths)   -> {run_id: run spec}    trained runs it needs (generic train_run rule)
    evaluations(config, paths) -> {(run_id, eval_id): eval spec}   (generic evaluate_run rule)
    table_sources(config, paths) -> [result paths]  what its table renders (default: its study result)
    figure_inputs(config, paths) -> {name: path}    what its figure reads (default: result + reference)
    run(ctx) / plot(ctx)                             the study and the figure (see toeplitznet.studies)

An *auxiliary study* (a job several items read, e.g. Chapter 4's parameter counts) is a module with
``STUDY = Study(...)`` and the same ``inputs`` / ``run`` functions. A *shared section* (config read by
several items, e.g. ``studies.ch4_train``) is a :class:`Section` in a chapter package's ``SECTIONS``.
Items not built yet are :class:`Item` entries in a chapter package's ``PENDING`` list. The thesis's
directional claims are :class:`toeplitznet.claims.Claim` entries in a chapter package's ``CLAIMS`` list
(judged by the ``claims`` item, :mod:`toeplitznet.items.claims`).

Discovery (:func:`discover`) imports these modules but never torch or TensorFlow; the Snakefile, the
config schema (``items`` enum, the ``studies`` sections), ``toeplitznet items`` and the README's item table
are all generated from it. Extra chapter packages can be added with ``TOEPLITZNET_ITEM_PACKAGES``
(comma-separated importable package names), e.g. for a user's own items.
"""

from __future__ import annotations

import copy
import importlib
import os
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import ModuleType
from typing import Any

import yaml

__all__ = ["Item", "Study", "Section", "Registry", "RegistryError", "discover", "config_schema", "item_rows",
           "readme_table", "update_readme", "IMPLEMENTED", "PENDING", "DOES_NOT_REPRODUCE", "STATUSES"]

IMPLEMENTED = "implemented"
PENDING = "pending"
CITED_ONLY = "cited-only"
DOES_NOT_REPRODUCE = "does not reproduce"
STATUSES = (IMPLEMENTED, DOES_NOT_REPRODUCE, PENDING, CITED_ONLY)
KINDS = ("table", "figure")

#: the root package of the chapter packages
ITEMS_PACKAGE = "toeplitznet.items"


class RegistryError(ValueError):
    """An inconsistent declaration (duplicate id, unknown status, section declared twice ...)."""


def _schema(s: Mapping[str, Any] | str | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return yaml.safe_load(s) if isinstance(s, str) else copy.deepcopy(dict(s))


@dataclass(frozen=True)
class Item:
    """One thesis item. ``schema`` is the JSON-schema fragment of ``studies.<section>`` (dict or YAML text).

    ``renders``: what the item renders (default its ``kind``; Figure 5.2 also renders a table of its prose
    numbers). ``result_of``: read another item's study result instead of running its own (Figure 4.6 draws
    Table 4.5's runs). ``uses``: shared sections its jobs read (they become required with it).
    ``reference``: figure-data files (under ``reference/figure_data``) drawn beside ours.
    ``gpu``: its jobs want a GPU where ``resources.gpu`` allows one. ``threads``: CPU threads of its study job
    (an int, or ``"config"`` for the config's ``threads``).
    """

    id: str
    kind: str
    title: str
    thesis_lines: str = ""
    status: str = PENDING
    reason: str = ""
    renders: tuple[str, ...] = ()
    thesis_rows: str | None = None
    scale_independent: bool = False
    section: str | None = None
    schema: Any = None
    uses: tuple[str, ...] = ()
    result_of: str | None = None
    reference: tuple[str, ...] = ()
    gpu: bool = False
    threads: int | str = 1
    outputs: Mapping[str, str] | None = None
    chapter: str = ""
    module: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise RegistryError(f"item {self.id}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.status not in STATUSES:
            raise RegistryError(f"item {self.id}: status must be one of {STATUSES}, got {self.status!r}")
        if self.status == DOES_NOT_REPRODUCE and not self.reason:
            raise RegistryError(f"item {self.id}: status {DOES_NOT_REPRODUCE!r} needs a reason")

    @property
    def built(self) -> bool:
        """Does the pipeline build it (implemented, whether or not it reproduces)?"""
        return self.status in (IMPLEMENTED, DOES_NOT_REPRODUCE)

    @property
    def config_section(self) -> str | None:
        if not self.built or self.schema is None:
            return None
        return self.section or self.id

    @property
    def render_kinds(self) -> tuple[str, ...]:
        return self.renders or (self.kind,)

    @property
    def study(self) -> str | None:
        """Name of the study job whose result the item renders (None: pending)."""
        if not self.built:
            return None
        return self.result_of or self.id

    @property
    def has_own_study(self) -> bool:
        return self.built and self.result_of is None

    @property
    def study_outputs(self) -> dict[str, str]:
        return dict(self.outputs or {"result": f"{self.id}.json"})

    @property
    def schema_dict(self) -> dict[str, Any] | None:
        return _schema(self.schema)


@dataclass(frozen=True)
class Study:
    """An auxiliary study: a job whose results several items read (not itself a thesis item)."""

    name: str
    title: str
    outputs: Mapping[str, str] = field(default_factory=dict)
    schema: Any = None
    section: str | None = None
    uses: tuple[str, ...] = ()
    gpu: bool = False
    threads: int | str = 1
    chapter: str = ""
    module: str = ""

    @property
    def config_section(self) -> str | None:
        return self.section if self.section is not None else (self.name if self.schema is not None else None)

    @property
    def study_outputs(self) -> dict[str, str]:
        return dict(self.outputs or {"result": f"{self.name}.json"})

    @property
    def schema_dict(self) -> dict[str, Any] | None:
        return _schema(self.schema)


@dataclass(frozen=True)
class Section:
    """A config section shared by several items of a chapter (``studies.<name>``)."""

    name: str
    schema: Any
    description: str = ""
    chapter: str = ""

    @property
    def schema_dict(self) -> dict[str, Any]:
        return _schema(self.schema) or {}


@dataclass
class Registry:
    """Every item, auxiliary study, shared section and chapter package found by :func:`discover`."""

    items: dict[str, Item]
    studies: dict[str, Study]
    sections: dict[str, Section]
    modules: dict[str, str]  # study / item id -> module path
    chapters: dict[str, str] = field(default_factory=dict)  # chapter package name -> module path
    #: the thesis's directional claims (``CLAIMS`` of the chapter packages; :mod:`toeplitznet.claims`)
    claims: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ lookups
    def item(self, item_id: str) -> Item:
        if item_id not in self.items:
            raise KeyError(f"unknown item {item_id!r}; known: {', '.join(self.items)}")
        return self.items[item_id]

    def built_items(self) -> list[Item]:
        return [i for i in self.items.values() if i.built]

    def module(self, name: str) -> ModuleType:
        """The module of an item or study (imported on demand)."""
        if name not in self.modules:
            raise KeyError(f"unknown study {name!r}; known: {', '.join(sorted(self.modules))}")
        return importlib.import_module(self.modules[name])

    def hook(self, name: str, hook: str):
        """Function ``hook`` of the module of item/study ``name``, or None."""
        if name not in self.modules:
            return None
        return getattr(self.module(name), hook, None)

    def check_config(self, config: Mapping[str, Any]) -> None:
        """Cross-field checks of each chapter package (its ``check_config(config)``; ``ValueError``)."""
        for mod in self.chapters.values():
            fn = getattr(importlib.import_module(mod), "check_config", None)
            if fn is not None:
                fn(config)

    def study_names(self) -> list[str]:
        """Every study job name: items with their own study, then auxiliary studies."""
        return [i.id for i in self.items.values() if i.has_own_study] + list(self.studies)

    def job(self, name: str) -> Item | Study:
        return self.items[name] if name in self.items else self.studies[name]

    def section_schemas(self) -> dict[str, dict[str, Any]]:
        """``studies.<name>`` -> schema fragment, for every declared section."""
        out: dict[str, dict[str, Any]] = {}
        for owner in [*self.items.values(), *self.studies.values()]:
            sec = owner.config_section
            if sec and owner.schema is not None:
                out[sec] = owner.schema_dict
        for s in self.sections.values():
            out[s.name] = s.schema_dict
        return out

    def required_sections(self, item_id: str) -> list[str]:
        """Config sections an item needs: its own, those it uses, and those of the studies it reads."""
        it = self.item(item_id)
        out = [it.config_section] if it.config_section and it.schema is not None else []
        out += list(it.uses)
        if it.result_of:
            out += self.required_sections(it.result_of)
        return list(dict.fromkeys(s for s in out if s))


def _declare(reg: Registry, mod: ModuleType, chapter: str) -> None:
    from dataclasses import replace

    for it in getattr(mod, "PENDING", []):
        if it.built:
            raise RegistryError(f"{mod.__name__}: PENDING lists {it.id} with status {it.status!r}")
        _add_item(reg, replace(it, chapter=chapter, module=""))
    for claim in getattr(mod, "CLAIMS", []):
        if claim.id in reg.claims:
            raise RegistryError(f"claim {claim.id} declared twice ({reg.claims[claim.id].chapter}, {chapter})")
        reg.claims[claim.id] = replace(claim, chapter=chapter)
    for sec in getattr(mod, "SECTIONS", []):
        if sec.name in reg.sections:
            raise RegistryError(f"config section {sec.name} declared twice ({mod.__name__})")
        reg.sections[sec.name] = replace(sec, chapter=chapter)
    it = getattr(mod, "ITEM", None)
    if it is not None:
        _add_item(reg, replace(it, chapter=chapter, module=mod.__name__))
        if it.built:
            reg.modules[it.id] = mod.__name__
    st = getattr(mod, "STUDY", None)
    if st is not None:
        if st.name in reg.studies or st.name in reg.items:
            raise RegistryError(f"study {st.name} declared twice ({mod.__name__})")
        reg.studies[st.name] = replace(st, chapter=chapter, module=mod.__name__)
        reg.modules[st.name] = mod.__name__


def _add_item(reg: Registry, it: Item) -> None:
    if it.id in reg.items:
        raise RegistryError(f"item {it.id} declared twice ({reg.items[it.id].module or reg.items[it.id].chapter}, "
                            f"{it.module or it.chapter})")
    reg.items[it.id] = it


def _packages() -> list[str]:
    extra = [p.strip() for p in os.environ.get("TOEPLITZNET_ITEM_PACKAGES", "").split(",") if p.strip()]
    return [ITEMS_PACKAGE, *extra]


def _walk(reg: Registry, root: str) -> None:
    pkg = importlib.import_module(root)
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if not info.ispkg or info.name.startswith("_"):
            continue
        chapter = info.name
        if chapter in reg.chapters:
            raise RegistryError(f"chapter package {chapter} exists twice ({reg.chapters[chapter]}, {root})")
        chap = importlib.import_module(f"{root}.{chapter}")
        reg.chapters[chapter] = chap.__name__
        _declare(reg, chap, chapter)
        for sub in sorted(pkgutil.iter_modules(chap.__path__), key=lambda m: m.name):
            if sub.name.startswith("_") or sub.ispkg:
                continue
            _declare(reg, importlib.import_module(f"{root}.{chapter}.{sub.name}"), chapter)


@lru_cache(maxsize=4)
def _discover(packages: tuple[str, ...]) -> Registry:
    reg = Registry(items={}, studies={}, sections={}, modules={})
    for root in packages:
        _walk(reg, root)
    reg.items = dict(sorted(reg.items.items(), key=lambda kv: _order(kv[1])))
    for it in reg.items.values():
        missing = [u for u in it.uses if u not in reg.sections and u not in reg.section_schemas()]
        if missing:
            raise RegistryError(f"item {it.id} uses undeclared config section(s) {missing}")
        if it.result_of and it.result_of not in reg.items:
            raise RegistryError(f"item {it.id}: result_of names unknown item {it.result_of}")
    for claim in reg.claims.values():
        bad = [i for i in claim.items if i not in reg.items or not reg.items[i].built]
        if bad:
            raise RegistryError(f"claim {claim.id} ({claim.chapter}) reads unknown or pending item(s) {bad}")
    return reg


def _order(it: Item) -> tuple:
    """Thesis order: chapters 1-5, then appendices, then other packages; within a chapter by item number."""
    import re

    m = re.match(r"(ch|app)([0-9A-Z]+)", it.chapter)
    chap = (0 if m.group(1) == "ch" else 1, m.group(2), it.chapter) if m else (2, "", it.chapter)
    nums = [int(x) if x.isdigit() else x for x in re.findall(r"[0-9]+|[a-z]$", it.id.partition("_")[2])]
    return (*chap, it.id.startswith("ecai"), it.kind, [str(n).zfill(4) for n in nums])


def discover() -> Registry:
    """The registry of every chapter package (cached per ``TOEPLITZNET_ITEM_PACKAGES``)."""
    return _discover(tuple(_packages()))


def clear_cache() -> None:
    _discover.cache_clear()


# ------------------------------------------------------------------------------------------ generated
def config_schema(base: Mapping[str, Any], reg: Registry | None = None) -> dict[str, Any]:
    """The full config schema: ``base`` (global keys) with the ``items`` enum and the ``studies`` sections
    of the registry. ``studies`` is closed to unknown sections, and every section an item listed in
    ``items`` needs is required (one ``if``/``then`` per item)."""
    reg = reg or discover()
    schema = copy.deepcopy(dict(base))
    props = schema.setdefault("properties", {})
    props["items"]["items"] = {"enum": [i.id for i in reg.built_items()]}
    studies = props.setdefault("studies", {"type": "object"})
    studies["additionalProperties"] = False
    studies["properties"] = reg.section_schemas()
    studies.pop("required", None)
    conds = []
    for it in reg.built_items():
        req = reg.required_sections(it.id)
        if req:
            conds.append({"if": {"properties": {"items": {"contains": {"const": it.id}}}, "required": ["items"]},
                          "then": {"properties": {"studies": {"required": req}}}})
    schema["allOf"] = list(schema.get("allOf", [])) + conds
    return schema


def item_rows(reg: Registry | None = None, config: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """One dict per item: what ``toeplitznet items`` prints (``--json``) and the README table shows."""
    from .plan import Paths

    reg = reg or discover()
    paths = Paths(config or {"scale": "<scale>", "paths": {"results": "results"}})
    rows = []
    for it in reg.items.values():
        targets = paths.item_targets(it) if it.built else paths.planned_targets(it)
        test = f"tests/{it.chapter}/test_{it.id}.py"
        rows.append({"item": it.id, "chapter": it.chapter, "kind": it.kind, "title": it.title,
                     "thesis_lines": it.thesis_lines, "targets": targets, "status": it.status,
                     "reason": it.reason, "config_section": it.config_section, "uses": list(it.uses),
                     "module": it.module or None, "test": test,
                     "scale_independent": it.scale_independent})
    return rows


def readme_table(reg: Registry | None = None) -> str:
    """The README's item table (a test fails when the README differs)."""
    lines = ["| item | chapter | what | target(s) | status | config section |", "|---|---|---|---|---|---|"]
    for r in item_rows(reg):
        targets = ", ".join(f"`{t}`" for t in r["targets"] if not t.endswith(".provenance.json")
                            and not t.endswith((".csv", ".tex", ".png", ".html")))
        status = r["status"] + (f" ({r['reason']})" if r["reason"] else "")
        sec = f"`studies.{r['config_section']}`" if r["config_section"] else "–"
        lines.append(f"| {pretty_id(r['item'])} | {r['chapter']} | {r['title']} | {targets} | {status} | {sec} |")
    return "\n".join(lines)


README_BEGIN = "<!-- item table: generated by `make readme` from toeplitznet.registry; do not edit -->"
README_END = "<!-- end of item table -->"


def update_readme(text: str, reg: Registry | None = None) -> str:
    """``text`` (the README) with its item table replaced by :func:`readme_table`."""
    if README_BEGIN not in text or README_END not in text:
        raise RegistryError(f"README has no item-table markers ({README_BEGIN!r} ... {README_END!r})")
    head, rest = text.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    return f"{head}{README_BEGIN}\n{readme_table(reg)}\n{README_END}{tail}"


def pretty_id(item_id: str) -> str:
    """``table_4_1`` -> 'Table 4.1'; ``fig_B_3`` -> 'Figure B.3'; ``ecai_fig_2a`` -> 'ECAI Fig. 2(a)'."""
    parts = item_id.split("_")
    if len(parts) == 1:
        return item_id.capitalize()
    if parts[0] == "ecai":
        num = parts[2]
        return f"ECAI Fig. {num[:-1]}({num[-1]})" if num[-1].isalpha() else f"ECAI Fig. {num}"
    kind = {"fig": "Figure", "table": "Table"}.get(parts[0], parts[0])
    return f"{kind} {'.'.join(parts[1:])}"
