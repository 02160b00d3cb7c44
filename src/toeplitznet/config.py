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
             check_paths: bool = True) -> None:
    """Validate against the JSON schema, then check folders that must exist.

    Raises :class:`ConfigError` whose message names the source file and the dotted key, e.g.
    ``config/config.yaml: config key studies.fig_4_2.epochs: -1 is less than the minimum of 1``.
    """
    import jsonschema

    where = f"{source}: " if source else ""
    _check_items(cfg, where)
    validator = jsonschema.Draft202012Validator(full_schema())
    errors = sorted(validator.iter_errors(dict(cfg)), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = []
        for err in errors:
            path = list(err.absolute_path)
            if err.validator == "additionalProperties":
                lines.append(f"config key {_key_path(path)}: {err.message}")
            elif err.validator == "required":
                lines.append(f"config key {_key_path(path)}: {err.message}")
            else:
                lines.append(f"config key {_key_path(path)}: {err.message}")
        raise ConfigError(where + "invalid configuration\n  " + "\n  ".join(lines))
    from .registry import discover

    try:
        discover().check_config(cfg)
    except ValueError as exc:
        raise ConfigError(f"{where}{exc}") from exc
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


def folder_settings(cfg: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """Config keys naming folders that must exist when set (dataset mirror and user-given datasets)."""
    data = cfg.get("data", {})
    return [("data.mirror", data.get("mirror")), ("data.imagenet_root", data.get("imagenet_root"))]


def load_config(path: str | os.PathLike, overrides: Sequence[str] = (), check_paths: bool = True) -> dict[str, Any]:
    """Load a YAML config, apply overrides, validate it and return the resolved dict."""
    cfg = apply_overrides(load_yaml(path), overrides)
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
