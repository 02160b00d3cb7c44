"""Code identity of a job: a hash of exactly the package source it can execute.

A job's code is the closure of its entry modules under the package's import graph, read statically from
the source (every ``import toeplitznet...`` and relative ``from .x import y``, including imports inside
functions), plus the Snakemake script that starts it. Its fingerprint is the sha256 of the sorted
``(path, sha256(file))`` list (a package with lazy exports, a module-level ``__getattr__``, depends on every
submodule its source names). It is

* a ``params:`` value of every rule, so a change to the code a job runs reruns that job and what depends on
  it, while ``touch`` (no content change) or a change to an unrelated module reruns nothing;
* part of a trained run's checkpoint folder name, so a run rerun with changed code never reuses the old
  finished run;
* recorded in every provenance sidecar (``code``), and recomputed by the audit, which reports a result whose
  code has changed since it was made.

Documented choice (docs/provenance.md): a per-job module closure rather than one hash of the whole tree (which
would rerun everything on any edit) or the git commit (which ignores uncommitted edits and changes with
every unrelated commit). Dependencies outside the package (torch, numpy ...) are pinned by the environment
files and recorded as package versions, not hashed here.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

__all__ = ["module_files", "fingerprint", "job_code"]

PACKAGE = "toeplitznet"


def _src_root() -> Path:
    return Path(__file__).resolve().parent.parent


def _module_path(name: str) -> Path | None:
    """File of module ``name`` (``pkg/__init__.py`` for packages), or None if not in the package."""
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return None
    base = _src_root().joinpath(*name.split("."))
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def _resolve(module: str, is_pkg: bool, level: int, target: str | None) -> str:
    parts = module.split(".")
    if not is_pkg:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    return ".".join(parts + ([target] if target else []))


@lru_cache(maxsize=None)
def _imports(name: str, mtime_ns: int) -> tuple[str, ...]:
    """Package modules imported by module ``name`` (any depth of the file's syntax tree)."""
    path = _module_path(name)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(name, is_pkg, node.level, node.module) if node.level else (node.module or "")
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)  # "from . import x" may name a module
    if is_pkg and any(isinstance(n, ast.FunctionDef) and n.name == "__getattr__" for n in tree.body):
        # a package with lazy exports (module __getattr__): every string naming one of its submodules
        out.update(f"{name}.{n.value}" for n in ast.walk(tree)
                   if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.isidentifier())
    return tuple(sorted(m for m in out if _module_path(m) is not None))


def module_files(entries: Iterable[str]) -> list[Path]:
    """Every package file reachable from the ``entries`` modules (parents' ``__init__`` included)."""
    seen: set[str] = set()
    todo = list(entries)
    while todo:
        name = todo.pop()
        if name in seen or _module_path(name) is None:
            continue
        seen.add(name)
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # importing a.b.c runs a and a.b
        todo += list(_imports(name, _module_path(name).stat().st_mtime_ns))
    return sorted({_module_path(n) for n in seen})


def fingerprint(files: Iterable[Path | str]) -> str:
    """sha256 over the sorted (path relative to ``src/``, content sha256) of ``files``."""
    root = _src_root().parent
    h = hashlib.sha256()
    for f in sorted(Path(p).resolve() for p in files):
        rel = f.relative_to(root) if f.is_relative_to(root) else f
        h.update(f"{rel} {hashlib.sha256(f.read_bytes()).hexdigest()}\n".encode())
    return h.hexdigest()


@lru_cache(maxsize=256)
def _job_code(entries: tuple[str, ...], scripts: tuple[str, ...], stamp: tuple) -> dict:
    files = module_files(entries)
    extra = [_src_root().parent / s for s in scripts]
    return {"sha256": fingerprint(files + [p for p in extra if p.is_file()]), "entries": list(entries),
            "scripts": list(scripts), "files": len(files)}


def job_code(entries: Iterable[str], scripts: Iterable[str] = ()) -> dict:
    """``{"sha256", "entries", "scripts", "files"}`` of a job whose code starts at ``entries`` (module
    names) and the Snakemake ``scripts`` (paths relative to the repository root)."""
    entries, scripts = tuple(sorted(set(entries))), tuple(sorted(set(scripts)))
    files = module_files(entries)
    stamp = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    return _job_code(entries, scripts, stamp)
