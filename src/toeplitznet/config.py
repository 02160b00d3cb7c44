"""Configuration: YAML defaults, ``key=value`` overrides, schema validation with messages naming the key.

Two scales exist and are never mixed:

* ``config/config.yaml`` – the **smoke** scale, the default the Snakefile loads: the whole DAG on a laptop
  CPU in minutes, on data already on the machine;
* ``config/paper.yaml`` – the **paper** scale: the thesis's settings, real datasets, GPUs.

Both files carry every key (a test checks the key sets are equal) so that ``--configfile config/paper.yaml``
can never inherit a smoke value by accident. The schema is ``workflow/schemas/config.schema.yaml``.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from .reference import project_root


class ConfigError(ValueError):
    """An invalid configuration; the message names the file (if any) and the offending key."""


def schema_path() -> Path:
    return project_root() / "workflow" / "schemas" / "config.schema.yaml"


def full_schema() -> dict[str, Any]:
    """The base schema (global keys) completed by the item registry: the ``items`` enum and every
    ``studies.<section>`` fragment, closed to unknown sections (:func:`toeplitznet.registry.config_schema`)."""
    from .registry import config_schema

    return config_schema(yaml.safe_load(schema_path().read_text()))


def load_yaml(path: str | os.PathLike) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    return data


def _key_path(parts: Sequence[Any]) -> str:
    return ".".join(str(p) for p in parts) or "<top level>"


def apply_overrides(cfg: Mapping[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``dotted.key=value`` overrides (values parsed as YAML) to a deep copy of ``cfg``."""
    out = copy.deepcopy(dict(cfg))
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r}: expected dotted.key=value")
        key, raw = item.split("=", 1)
        parts = key.strip().split(".")
        node = out
        for p in parts[:-1]:
            if not isinstance(node.get(p), dict):
                raise ConfigError(f"override {item!r}: config key {'.'.join(parts[: parts.index(p) + 1])} "
                                  "is not a mapping")
            node = node[p]
        if parts[-1] not in node:
            raise ConfigError(f"override {item!r}: unknown config key {key}")
        node[parts[-1]] = yaml.safe_load(raw)
    return out


def validate(cfg: Mapping[str, Any], source: str | os.PathLike | None = None,
             check_paths: bool = True, cli_keys: Sequence[str] = ()) -> None:
    """Validate against the JSON schema, then the cross-field checks, then folders that must exist.

    Raises :class:`ConfigError` whose message names the source file and the dotted key, e.g.
    ``config/config.yaml: config key studies.fig_4_2.epochs: -1 is less than the minimum of 1``; a key set
    on the command line (``cli_keys``, from ``--config``) is blamed on the command line instead.
    """
    import jsonschema

    where = f"{source}: " if source else ""
    _check_items(cfg, where)
    validator = jsonschema.Draft202012Validator(full_schema())
    errors = sorted(validator.iter_errors(dict(cfg)), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = []
        for err in errors:
            key = _key_path(list(err.absolute_path))
            cli = any(key == k or key.startswith(k + ".") or k.startswith(key + ".") for k in cli_keys)
            origin = " (set on the command line with --config)" if cli and key != "<top level>" else ""
            lines.append(f"config key {key}{origin}: {err.message}")
        raise ConfigError(where + "invalid configuration\n  " + "\n  ".join(lines))
    from .registry import discover

    try:
        cross_checks(cfg)
        discover().check_config(cfg)
    except ValueError as exc:
        raise ConfigError(f"{where}{exc}" if not str(exc).startswith(where) else str(exc)) from exc
    if check_paths:
        for key, value in folder_settings(cfg):
            if value is not None and not Path(value).is_dir():
                raise ConfigError(f"{where}config key {key}: folder {value!r} does not exist")


def _check_items(cfg: Mapping[str, Any], where: str) -> None:
    """Items that are not built (pending, cited-only) or unknown get their own message."""
    from .registry import discover

    reg = discover()
    for i in cfg.get("items", []) or []:
        if i not in reg.items:
            raise ConfigError(f"{where}config key items: unknown item {i!r}; known: "
                              f"{', '.join(x.id for x in reg.built_items())}")
        if not reg.items[i].built:
            it = reg.items[i]
            raise ConfigError(f"{where}config key items: {i} is {it.status}, nothing builds it yet"
                              + (f" ({it.reason})" if it.reason else ""))


#: keys that describe the machine or where files live, not the experiment: they may differ from the scale's
#: settings file without making the results "not the thesis's settings"
ENVIRONMENT_KEYS = ("paths.", "data.mirror", "data.imagenet_root", "data.allow_download", "threads", "device",
                    "resources.", "render.")


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping) and v:
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


#: every scale and the config file that defines its settings (smoke is the default, embedded config)
SCALE_FILES = {"smoke": "config/config.yaml", "medium": "config/medium.yaml", "paper": "config/paper.yaml"}
SCALES = tuple(SCALE_FILES)


def scale_settings_file(scale: str) -> Path:
    """The file that defines a scale's settings (:data:`SCALE_FILES`)."""
    return project_root() / SCALE_FILES.get(scale, SCALE_FILES["smoke"])


def scale_deviations(cfg: Mapping[str, Any]) -> list[str]:
    """Keys whose values differ from the settings of the config's own scale (environment keys aside), e.g.
    every study key when smoke settings are run with ``--config scale=paper``. A paper-scale render with
    deviations says so in its header and the audit names them: it is not "the thesis's settings"."""
    ref_path = scale_settings_file(cfg["scale"])
    if not ref_path.is_file():
        return []
    ref = _flatten(load_yaml(ref_path))
    ours = _flatten(cfg)
    keys = sorted(set(ref) | set(ours))
    return [k for k in keys if not k.startswith(ENVIRONMENT_KEYS) and k not in ("scale",)
            and ref.get(k, "<absent>") != ours.get(k, "<absent>")]


def _yaml_scalar(value: Any) -> Any:
    """A string parsed as a YAML scalar when it is one (``'1'`` -> 1), else unchanged."""
    if not isinstance(value, str):
        return value
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    return value if isinstance(parsed, (str, dict, list)) or parsed is None else parsed


def coerce_overrides(cfg: dict[str, Any], overrides: Mapping[str, Any]) -> list[str]:
    """Parse the string leaves of Snakemake ``--config`` overrides as YAML (Snakemake leaves nested values as
    strings: ``studies={ch4_train: {epochs: 5}}`` gives ``'5'``), in ``cfg`` and ``overrides``; returns the
    dotted keys that came from the command line."""
    keys: list[str] = []

    def walk(node: Any, over: Any, path: list[str]) -> None:
        if not isinstance(over, Mapping):
            return
        for k, v in over.items():
            here = path + [str(k)]
            if isinstance(v, Mapping):
                walk(node.get(k, {}) if isinstance(node, Mapping) else {}, v, here)
                continue
            keys.append(".".join(here))
            if isinstance(v, list) and isinstance(node, dict) and isinstance(node.get(k), list):
                # list elements arrive as strings too (``seeds=[0,1]`` gives ['0', '1'])
                node[k] = [_yaml_scalar(e) for e in node[k]]
                continue
            if isinstance(v, str) and isinstance(node, dict) and k in node and isinstance(node[k], str):
                try:
                    parsed = yaml.safe_load(v)
                except yaml.YAMLError:
                    continue
                if not isinstance(parsed, str):
                    node[k] = parsed

    walk(cfg, overrides, [])
    return keys


def cross_checks(cfg: Mapping[str, Any]) -> None:
    """Checks across keys that the schema cannot express (``ConfigError`` naming the keys)."""
    if "seeds" in cfg and "seed" in cfg and int(cfg["seed"]) not in [int(s) for s in cfg["seeds"]]:
        raise ConfigError(f"config keys seed / seeds: the training seeds {list(cfg['seeds'])} must contain the "
                          f"global seed {cfg['seed']} (its runs keep their plain ids; the others are replicas)")
    data = cfg.get("data", {})
    if "imagenet" in (data.get("datasets") or []) and not data.get("imagenet_root"):
        raise ConfigError("config key data.datasets lists imagenet but data.imagenet_root is not set: ImageNet "
                          "is never downloaded; point data.imagenet_root at your ILSVRC2012 folder")


def folder_settings(cfg: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """Config keys naming folders that must exist when set (dataset mirror and user-given datasets)."""
    data = cfg.get("data", {})
    return [("data.mirror", data.get("mirror")), ("data.imagenet_root", data.get("imagenet_root"))]


def deep_update(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``over`` recursively (how Snakemake layers config files and ``--config``)."""
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(base.get(k), dict):
            deep_update(base[k], v)
        else:
            base[k] = copy.deepcopy(v)
    return base


def load_config(path: str | os.PathLike, overrides: Sequence[str] = (), check_paths: bool = True,
                base: str | os.PathLike | None = "default") -> dict[str, Any]:
    """Load a YAML config layered over ``base`` (default: ``config/config.yaml``, as the Snakefile's default
    configfile is, so a partial file works as with Snakemake; ``None``: no base), apply ``dotted.key=value``
    overrides, validate and return the resolved dict."""
    cfg = load_yaml(path)
    if base == "default":
        base = project_root() / "config" / "config.yaml"
    if base is not None and Path(base).resolve() != Path(path).resolve():
        cfg = deep_update(load_yaml(base), cfg)
    cfg = apply_overrides(cfg, overrides)
    validate(cfg, source=path, check_paths=check_paths)
    return cfg


def study_config(cfg: Mapping[str, Any], study: str) -> dict[str, Any]:
    """The resolved configuration subset a study depends on: its own section plus the global keys.

    This subset (not the whole config) is what a job's provenance records and hashes, so editing an
    unrelated study's settings does not change it.
    """
    from .plan import PlanError
    from .plan import study_config as _study_config

    try:
        return _study_config(cfg, study)
    except PlanError as exc:
        raise ConfigError(str(exc)) from exc
