"""``toeplitznet`` command line.

Subcommands::

    toeplitznet items [--json]                                    every thesis item: chapter, targets, status
    toeplitznet run STUDY [--configfile F] [--set key=value ...] [--out-dir D] [--input name=path ...]
    toeplitznet plot ITEM [--input result=PATH ...] [--out-dir D]  draw an item's figure from its result
    toeplitznet render-table ITEM RESULT.json ... [--out-dir D] [--configfile F]
    toeplitznet audit [--scale smoke|paper] [--configfile F] [--item ITEM ...] [--output F]
    toeplitznet check-config [--configfile F] [--set key=value ...]
    toeplitznet studies                                           list the study jobs and their modules
    toeplitznet explain ITEM [--scale S]                          each cell's claim, rule, verdict and reason

Config handling follows the timm idiom: YAML defaults (``config/config.yaml`` is the smoke scale),
``--set dotted.key=value`` overrides, and the resolved config saved beside the outputs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .config import SCALES


def _common_config(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--configfile", default="config/config.yaml",
                    help="YAML config, layered over config/config.yaml as Snakemake does (default: the smoke config)")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="override a config key (dotted path); repeatable")


def _print_items(as_json: bool) -> int:
    from .registry import discover, item_rows

    rows = item_rows(discover())
    if as_json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    print(f"{'item':<12} {'chapter':<16} {'status':<20} {'config section':<22} {'test file':<40} targets")
    for r in rows:
        targets = " ".join(t for t in r["targets"] if t.endswith((".md", ".pdf")))
        print(f"{r['item']:<12} {r['chapter']:<16} {r['status']:<20} {str(r['config_section'] or '-'):<22} "
              f"{r['test']:<40} {targets}")
    built = sum(r["status"] in ("implemented", "does not reproduce") for r in rows)
    print(f"\n{len(rows)} items, {built} built; targets shown for scale <scale> (paper_tables/<scale>/, figures/<scale>/)")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["explain"]:  # its own parser (toeplitznet.report.explain), options after the item
        from .report.explain import main as explain_main

        return explain_main(argv[1:])
    ap = argparse.ArgumentParser(
        prog="toeplitznet",
        description="toeplitznet: the items of A. Araujo's thesis (list, run, render, audit) outside Snakemake.",
        epilog="Run 'toeplitznet COMMAND --help' for the options of a command.")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    p_items = sub.add_parser("items", help="list every thesis item (chapter, targets, status, config section)")
    p_items.add_argument("--json", action="store_true", help="print the list as JSON")

    p_run = sub.add_parser("run", help="run a study outside Snakemake (same code, same provenance)")
    p_run.add_argument("study", help="a study of the config's DAG: an item (table_4_1) or an auxiliary study "
                                     "(param_counts_ch4); 'toeplitznet studies' lists them")
    _common_config(p_run)
    p_run.add_argument("--out-dir", default=None, help="default: results/cli/<scale>/<study>")
    p_run.add_argument("--input", action="append", default=[], metavar="NAME=PATH",
                       help="replace one of the study's inputs (default: the DAG's own paths)")

    p_plot = sub.add_parser("plot", help="draw an item's figure from result files")
    p_plot.add_argument("study", metavar="item", help="a figure item (fig_5_1); 'toeplitznet items' lists them")
    _common_config(p_plot)
    p_plot.add_argument("--out-dir", default=None, help="default: results/cli/<scale>/<item>")
    p_plot.add_argument("--input", action="append", default=[], metavar="NAME=PATH",
                        help="replace one of the figure's inputs (default: the DAG's own paths)")

    p_tab = sub.add_parser("render-table", help="render ours-vs-thesis table from result files")
    p_tab.add_argument("item", help="a table item (table_4_1)")
    p_tab.add_argument("results", nargs="+", help="result JSON files holding the item's cells")
    p_tab.add_argument("--out-dir", default=None, help="default: paper_tables/<scale>")
    p_tab.add_argument("--caption", default="", help="caption line (default: '<item>: ours beside the thesis')")
    _common_config(p_tab)

    p_aud = sub.add_parser("audit", help="re-hash the chain behind every rendered number of one scale")
    p_aud.add_argument("--scale", choices=list(SCALES), help="default: the config's scale")
    p_aud.add_argument("--configfile", default=None, help="default: the scale's config file")
    p_aud.add_argument("--item", action="append", help="audit only this item (repeatable)")
    p_aud.add_argument("--output", help="also write the report to this file")

    p_chk = sub.add_parser("check-config", help="validate a config file (schema + folders)")
    _common_config(p_chk)

    sub.add_parser("studies", help="list the study jobs and their modules")
    sub.add_parser("explain", help="every cell of an item: claim kind, thesis value, rule, ours, verdict and reason "
                                   "(toeplitznet explain ITEM --help)")

    args = ap.parse_args(argv)
    from .config import ConfigError, load_config

    try:
        if args.cmd == "items":
            return _print_items(args.json)
        if args.cmd == "audit":
            from .report.audit import main as audit_main

            forwarded = []
            for flag in ("scale", "configfile", "output"):
                if getattr(args, flag):
                    forwarded += [f"--{flag}", getattr(args, flag)]
            for it in args.item or []:
                forwarded += ["--item", it]
            return audit_main(forwarded)
        if args.cmd == "studies":
            from .registry import discover

            reg = discover()
            for name in reg.study_names():
                print(f"{name:<18} {reg.modules[name]}")
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
            from .plan import Paths
            from .report.tables import render_table

            paths = Paths(cfg)
            out = Path(args.out_dir or paths.tables)
            outputs = {k: str(out / f"{args.item}.{k}") for k in ("csv", "md", "tex")}
            outputs["prov"] = str(out / f"{args.item}.provenance.json")
            cells = render_table(args.item, args.results, outputs, cfg["render"]["tolerance"], args.caption)
            print(f"{outputs['md']}: {len(cells)} cells")
            return 0
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (KeyError, FileNotFoundError) as exc:
        print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
