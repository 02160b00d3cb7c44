"""``toeplitznet`` command line.

Subcommands::

    toeplitznet run STUDY [--configfile F] [--set key=value ...] [--out-dir D] [--input name=path ...]
    toeplitznet plot STUDY --input result=PATH [--out-dir D]      draw a study's figure from its result
    toeplitznet render-table ITEM RESULT.json ... [--out-dir paper_tables] [--configfile F]
    toeplitznet audit [--tables paper_tables] [--figures figures] [--item ITEM]
    toeplitznet check-config [--configfile F] [--set key=value ...]
    toeplitznet studies                                             list the registered studies

Config handling follows the timm idiom: YAML defaults (``config/config.yaml`` is the smoke scale),
``--set dotted.key=value`` overrides, and the resolved config saved beside the outputs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _common_config(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--configfile", default="config/config.yaml", help="YAML config (default: smoke scale)")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="override a config key (dotted path); repeatable")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="toeplitznet", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    p_run = sub.add_parser("run", help="run a study outside Snakemake (same code, same provenance)")
    p_run.add_argument("study")
    _common_config(p_run)
    p_run.add_argument("--out-dir", default=None, help="default: results/cli/<scale>/<study>")
    p_run.add_argument("--input", action="append", default=[], metavar="NAME=PATH")

    p_plot = sub.add_parser("plot", help="draw a study's figure from result files")
    p_plot.add_argument("study")
    _common_config(p_plot)
    p_plot.add_argument("--out-dir", default="figures")
    p_plot.add_argument("--input", action="append", default=[], metavar="NAME=PATH")

    p_tab = sub.add_parser("render-table", help="render ours-vs-thesis table from result files")
    p_tab.add_argument("item")
    p_tab.add_argument("results", nargs="+")
    p_tab.add_argument("--out-dir", default="paper_tables")
    p_tab.add_argument("--caption", default="")
    _common_config(p_tab)

    p_aud = sub.add_parser("audit", help="re-hash the chain behind every rendered number")
    p_aud.add_argument("--tables", default="paper_tables")
    p_aud.add_argument("--figures", default="figures")
    p_aud.add_argument("--item", action="append")
    p_aud.add_argument("--output")

    p_chk = sub.add_parser("check-config", help="validate a config file (schema + folders)")
    _common_config(p_chk)

    sub.add_parser("studies", help="list registered studies")

    args = ap.parse_args(argv)
    from .config import ConfigError, load_config

    try:
        if args.cmd == "audit":
            from .report.audit import main as audit_main

            forwarded = ["--tables", args.tables, "--figures", args.figures]
            for it in args.item or []:
                forwarded += ["--item", it]
            if args.output:
                forwarded += ["--output", args.output]
            return audit_main(forwarded)
        if args.cmd == "studies":
            from .studies import STUDIES

            for name, mod in sorted(STUDIES.items()):
                print(f"{name:<16} {mod}")
            return 0
        cfg = load_config(args.configfile, args.overrides)
        if args.cmd == "check-config":
            print(f"{args.configfile}: OK (scale={cfg['scale']})")
            return 0
        if args.cmd in ("run", "plot"):
            from .studies.runner import run_from_cli

            inputs = dict(kv.split("=", 1) for kv in args.input)
            out = args.out_dir or str(Path(cfg["paths"]["results"]) / "cli" / cfg["scale"] / args.study)
            run_from_cli(args.study, cfg, out, entry="run" if args.cmd == "run" else "plot", inputs=inputs)
            print(f"outputs in {out}")
            return 0
        if args.cmd == "render-table":
            from .report.tables import render_table

            out = Path(args.out_dir)
            outputs = {k: str(out / f"{args.item}.{k}") for k in ("csv", "md", "tex")}
            outputs["prov"] = str(out / f"{args.item}.provenance.json")
            cells = render_table(args.item, args.results, outputs, cfg["render"]["tolerance"], args.caption)
            print(f"{outputs['md']}: {len(cells)} cells")
            return 0
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
