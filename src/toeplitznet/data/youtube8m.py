"""The YouTube-8M download plan, re-implemented as data (no network access at import).

The official instructions (https://research.google.com/youtube8m/download.html) pipe the script
``http://data.yt8m.org/download.py`` into Python with three environment variables:
``partition=<version>/<level>/<split>`` (e.g. ``2/video/train``), ``mirror=us|eu|asia`` and an
optional ``shard=X,Y`` ("download the X-th of Y deterministic parts").  The scheme that script
follows, and that this module reproduces, is:

* the *plan* is a JSON document ``{"files": {<remote file name>: <md5 hex digest>, ...}}`` served
  at ``http://data.yt8m.org/<version>/download_plans/<level>_<split>.json`` and saved locally as
  ``<version>_<level>_<split>_download_plan.json``;
* a shard is downloaded from ``http://<mirror>.data.yt8m.org/<version>/<level>/<split>/<remote>``
  and verified against the plan's md5;
* remote names end in a two-character id drawn from the 62 letters ``a-z A-Z 0-9``
  (``62**2 = 3844`` shards per partition); locally the id is replaced by its four-digit rank in
  that alphabet (``trainaa.tfrecord -> train0000.tfrecord``, ``train99.tfrecord ->
  train3843.tfrecord``), which is the ``{split}{0000..3843}.tfrecord`` naming the pipeline uses;
* ``shard=X,Y`` keeps the files whose *remote* name has ``int(md5(name), 16) % Y == X - 1``.  A
  *fraction* ``f`` is mapped to ``shard=1,round(1/f)``, i.e. exactly the file set the official
  script would download for that fraction.

What is verified: every shard against the md5 the plan gives for it.  The plan itself has no
published checksum; :func:`toeplitznet.data.download.fetch` records its sha256 in the manifest.
Without a plan (offline), :func:`shard_plan` can still *list* the shard URLs, derived from the
naming scheme above; those derived names are not verified to exist and carry no checksum.

:func:`fetch_plan` is the download handler of kind ``"plan"``: it finds the plan (given path,
``root``, mirrors) or downloads it, then fetches the selected shards like any registry file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from ..io import atomic_write_bytes, sha256_bytes
from . import errors, verification
from .engine import FetchContext, FetchResult, fetch_files
from .errors import Failure
from .registry import Checksum, FileSpec
from .transport import NETWORK_ERRORS, read_url

__all__ = [
    "SHARD_ALPHABET",
    "SHARD_IDS",
    "REGIONS",
    "Partition",
    "ShardEntry",
    "local_name",
    "in_shard",
    "fraction_to_shard",
    "parse_plan",
    "derived_remote_names",
    "shard_plan",
    "plan_file_specs",
    "PlanOptions",
    "find_plan",
    "fetch_plan",
]

#: The 62 characters of a shard id, in the order that defines the four-digit local index.
SHARD_ALPHABET = string.ascii_lowercase + string.ascii_uppercase + string.digits
#: All two-character shard ids in local-index order (``SHARD_IDS[i]`` <-> ``{i:04d}``).
SHARD_IDS = tuple(a + b for a in SHARD_ALPHABET for b in SHARD_ALPHABET)
_SHARD_INDEX = {sid: i for i, sid in enumerate(SHARD_IDS)}

#: Download mirrors of the official script.
REGIONS = ("us", "eu", "asia")
_LEVELS = ("video", "frame", "video_level", "frame_level")
_SPLITS = ("train", "validate", "test")
PLAN_HOST = "http://data.yt8m.org"


@dataclass(frozen=True)
class Partition:
    """``<version>/<level>/<split>``, e.g. ``Partition("2", "video", "train")``."""

    version: str
    level: str
    split: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d+", str(self.version)):
            raise ValueError(f"YouTube-8M version must be a number, got {self.version!r}")
        object.__setattr__(self, "version", str(self.version))
        if self.level not in _LEVELS:
            raise ValueError(f"YouTube-8M level must be one of {_LEVELS}, got {self.level!r}")
        if self.split not in _SPLITS:
            raise ValueError(f"YouTube-8M split must be one of {_SPLITS}, got {self.split!r}")

    @classmethod
    def parse(cls, text: "str | Partition") -> "Partition":
        """Parse ``"2/video/train"`` (a :class:`Partition` passes through)."""
        if isinstance(text, Partition):
            return text
        parts = str(text).strip("/").split("/")
        if len(parts) != 3:
            raise ValueError(f"partition must look like '2/video/train', got {text!r}")
        return cls(*parts)

    @property
    def path(self) -> str:
        return f"{self.version}/{self.level}/{self.split}"

    @property
    def plan_url(self) -> str:
        """URL of the official download plan for this partition."""
        return f"{PLAN_HOST}/{self.version}/download_plans/{self.level}_{self.split}.json"

    @property
    def plan_filename(self) -> str:
        """File name the official script saves the plan under."""
        return f"{self.version}_{self.level}_{self.split}_download_plan.json"

    def shard_url(self, remote_name: str, region: str = "us") -> str:
        if region not in REGIONS:
            raise ValueError(f"region must be one of {REGIONS}, got {region!r}")
        return f"http://{region}.data.yt8m.org/{self.path}/{remote_name}"


def local_name(remote_name: str, split: str | None = None) -> str:
    """Local file name of a remote shard: the two-character id becomes its four-digit index.

    ``"trainaB.tfrecord" -> "train0027.tfrecord"``.  Names that do not end in a two-character id
    after the split prefix (when ``split`` is given) or that contain no dot are returned unchanged.
    """
    if "." not in remote_name:
        return remote_name
    stem, ext = remote_name.split(".", 1)
    if split is not None and (not stem.startswith(split) or len(stem) != len(split) + 2):
        return remote_name
    sid = stem[-2:]
    if len(stem) < 3 or sid not in _SHARD_INDEX:
        return remote_name
    return f"{stem[:-2]}{_SHARD_INDEX[sid]:04d}.{ext}"


def in_shard(remote_name: str, shard_id: int, num_shards: int) -> bool:
    """Whether ``remote_name`` belongs to part ``shard_id`` (1-based) of ``num_shards``."""
    if not 1 <= shard_id <= num_shards:
        raise ValueError(f"need 1 <= shard_id <= num_shards, got {shard_id}, {num_shards}")
    digest = hashlib.md5(remote_name.encode("utf-8"), usedforsecurity=False).hexdigest()
    return int(digest, 16) % num_shards == shard_id - 1


def fraction_to_shard(fraction: float) -> tuple[int, int]:
    """Map a fraction in ``(0, 1]`` to the official ``shard=1,N`` with ``N = round(1/fraction)``."""
    fraction = float(fraction)
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    return 1, max(1, int(round(1.0 / fraction)))


def parse_plan(plan: bytes | str | Mapping) -> dict[str, str]:
    """Validate a download plan and return ``{remote name: md5}``.

    Accepts the raw JSON (bytes/str) or the decoded mapping.  Raises :class:`ValueError` with a
    precise reason when the structure is not ``{"files": {name: 32-hex md5}}``.
    """
    if isinstance(plan, (bytes, str)):
        try:
            plan = json.loads(plan)
        except json.JSONDecodeError as exc:
            raise ValueError(f"download plan is not valid JSON: {exc}") from None
    if not isinstance(plan, Mapping) or not isinstance(plan.get("files"), Mapping):
        raise ValueError('download plan must be a JSON object with a "files" object')
    out: dict[str, str] = {}
    for name, md5 in plan["files"].items():
        if not isinstance(name, str) or "/" in name or not name:
            raise ValueError(f"download plan lists an invalid file name {name!r}")
        if not isinstance(md5, str) or not re.fullmatch(r"[0-9a-fA-F]{32}", md5):
            raise ValueError(f"download plan gives an invalid md5 for {name!r}: {md5!r}")
        out[name] = md5.lower()
    if not out:
        raise ValueError("download plan lists no file")
    return out


def derived_remote_names(partition: "str | Partition", extension: str = "tfrecord") -> list[str]:
    """The 3844 remote names implied by the naming scheme (offline guess; not verified)."""
    p = Partition.parse(partition)
    return [f"{p.split}{sid}.{extension}" for sid in SHARD_IDS]


@dataclass(frozen=True)
class ShardEntry:
    """One planned shard: local name, remote name, URLs (chosen region first), md5 or ``None``."""

    local_name: str
    remote_name: str
    urls: tuple[str, ...]
    md5: str | None


def _region_order(region: str) -> tuple[str, ...]:
    if region not in REGIONS:
        raise ValueError(f"region must be one of {REGIONS}, got {region!r}")
    return (region,) + tuple(r for r in REGIONS if r != region)


def _resolve_shard(shard: tuple[int, int] | str | None, fraction: float | None) -> tuple[int, int]:
    if shard is not None and fraction is not None:
        raise ValueError("give either shard or fraction, not both")
    if fraction is not None:
        return fraction_to_shard(fraction)
    if shard is None:
        return 1, 1
    if isinstance(shard, str):
        a, _, b = shard.partition(",")
        shard = (int(a), int(b))
    sid, n = int(shard[0]), int(shard[1])
    if not 1 <= sid <= n:
        raise ValueError(f"shard must be X,Y with 1 <= X <= Y, got {sid},{n}")
    return sid, n


def shard_plan(
    partition: "str | Partition",
    *,
    plan: bytes | str | Mapping | None = None,
    shard: tuple[int, int] | str | None = None,
    fraction: float | None = None,
    region: str = "us",
) -> list[ShardEntry]:
    """List the shards of ``partition`` selected by ``shard``/``fraction``, sorted by local name.

    With ``plan`` (the official JSON), names and md5s come from it.  Without, names are derived
    from the naming scheme and ``md5`` is ``None`` (useful to print what would be fetched).
    """
    p = Partition.parse(partition)
    sid, n = _resolve_shard(shard, fraction)
    files = parse_plan(plan) if plan is not None else {name: None for name in derived_remote_names(p)}
    regions = _region_order(region)
    entries = [
        ShardEntry(
            local_name=local_name(remote, p.split),
            remote_name=remote,
            urls=tuple(p.shard_url(remote, r) for r in regions),
            md5=md5,
        )
        for remote, md5 in files.items()
        if in_shard(remote, sid, n)
    ]
    entries.sort(key=lambda e: e.local_name)
    locals_ = [e.local_name for e in entries]
    if len(set(locals_)) != len(locals_):
        raise ValueError("download plan maps two remote files to the same local name")
    return entries


def plan_file_specs(entries: Iterable[ShardEntry], partition: "str | Partition") -> list[FileSpec]:
    """Turn verified plan entries into :class:`FileSpec` records for the download engine."""
    p = Partition.parse(partition)
    specs = []
    for e in entries:
        if e.md5 is None:
            raise ValueError(f"shard {e.remote_name} has no md5: a plan is required to download")
        aliases = (e.remote_name,) if e.remote_name != e.local_name else ()
        specs.append(
            FileSpec(
                filename=e.local_name,
                urls=e.urls,
                checksums=(Checksum("md5", e.md5, None, f"official download plan {p.plan_url}"),),
                aliases=aliases,
                description=f"YouTube-8M {p.path} shard {e.remote_name}",
            )
        )
    return specs


# ---------------------------------------------------------------------------------------------
# download handler (kind "plan")
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanOptions:
    """Options of kind ``"plan"``: ``partition``, ``shard`` (``X,Y``) or ``fraction``, download
    ``region`` and ``plan_path`` (an official plan JSON); use one ``root`` per partition."""

    partition: str = "2/video/train"
    shard: tuple[int, int] | str | None = None
    fraction: float | None = None
    region: str = "us"
    plan_path: str | os.PathLike | None = None


def _plan_candidates(part: Partition, root: Path, plan_path, dirs: Iterable[tuple[Path, str]] = ()
                     ) -> list[tuple[Path, str]]:
    candidates = [(Path(plan_path), "given")] if plan_path is not None else []
    candidates.append((Path(root) / part.plan_filename, "present"))
    return candidates + [(d / part.plan_filename, kind) for d, kind in dirs]


def find_plan(partition: "str | Partition", root: str | os.PathLike, plan_path=None) -> bytes | None:
    """The raw plan at ``plan_path`` or saved in ``root``, or ``None`` (not validated)."""
    part = Partition.parse(partition)
    for p, _kind in _plan_candidates(part, Path(root), plan_path):
        if p.is_file():
            return p.read_bytes()
    return None


def _obtain_plan(ctx: FetchContext, part: Partition, plan_path) -> tuple[bytes, str]:
    """Find a valid plan (given path, root, mirrors) or download it; save it in ``root``."""
    saved = ctx.root / part.plan_filename
    tried: list[str] = []
    for p, kind in _plan_candidates(part, ctx.root, plan_path, ctx.dirs):
        if not p.is_file():
            tried.append(f"{p}: absent")
            continue
        data = p.read_bytes()
        try:
            parse_plan(data)
        except ValueError as exc:
            tried.append(f"{p}: invalid plan ({exc})")
            continue
        if kind != "present":
            atomic_write_bytes(saved, data, fsync=verification.FSYNC)
        return data, str(p)
    if ctx.allow_download:
        try:
            data = read_url(part.plan_url, ctx.timeout)
            parse_plan(data)
            atomic_write_bytes(saved, data, fsync=verification.FSYNC)
            return data, part.plan_url
        except ValueError as exc:
            tried.append(f"{part.plan_url}: invalid plan ({exc})")
        except NETWORK_ERRORS as exc:
            tried.append(f"{part.plan_url}: {type(exc).__name__}: {exc}")
    else:
        tried.append(f"{part.plan_url}: {errors.DOWNLOADS_DISABLED}")
    raise errors.unavailable(
        ctx.spec, ctx.root, [Failure(part.plan_filename, tried, [part.plan_url])], ctx.allow_download,
        cli_args=f" --partition {part.path}",
        extra=f"  (the plan lists the shards of partition {part.path} and their md5 checksums; without it "
        "nothing can be verified)",
    )


def fetch_plan(ctx: FetchContext, options: PlanOptions) -> FetchResult:
    """Handler of kind ``"plan"``: the plan, then the shards it selects, verified by its md5s."""
    part = Partition.parse(options.partition)
    plan_bytes, plan_origin = _obtain_plan(ctx, part, options.plan_path)
    sid, n = _resolve_shard(options.shard, options.fraction)
    entries = shard_plan(part, plan=plan_bytes, shard=(sid, n), region=options.region)
    files = plan_file_specs(entries, part)
    if not files:
        raise errors.empty_shard(ctx.spec, ctx.root, part.path, (sid, n), part.plan_url)
    extra = {
        "partition": part.path,
        "shard": [sid, n],
        "region": options.region,
        "plan": {
            "file": part.plan_filename,
            "url": part.plan_url,
            "origin": plan_origin,
            "sha256": sha256_bytes(plan_bytes),
            "num_files": len(parse_plan(plan_bytes)),
        },
    }
    return fetch_files(ctx, files, extra_manifest=extra, cli_args=f" --partition {part.path} --shard {sid},{n}")
