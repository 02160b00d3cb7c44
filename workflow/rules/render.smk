# Generic rules: run a single-output study, render a table (ours beside the thesis), draw a figure.
# Families register their items in common.smk's registries; these rules are defined last.


rule run_study:
    input:
        unpack(lambda w: STUDY_INPUTS[w.study]),
    output:
        result=f"{RES}/{{study}}/{{study}}.json",
    params:
        study="{study}",
        entry="run",
        cfg=lambda w: study_config(config, w.study),
    threads: lambda w: STUDY_THREADS[w.study]
    resources:
        gpu=lambda w: STUDY_GPU[w.study],
    wildcard_constraints:
        study="|".join(STUDY_INPUTS) or "NONE",
    log:
        f"{LOGS}/run_study/{{study}}.log",
    benchmark:
        f"{BENCH}/run_study/{{study}}.tsv"
    conda:
        TORCH_ENV
    script:
        "../scripts/job.py"


rule render_table:
    input:
        lambda w: TABLES[w.item],
    output:
        csv=report(
            "paper_tables/{item}.csv",
            caption="../report/table.rst",
            category="Tables",
            subcategory="{item}",
        ),
        md="paper_tables/{item}.md",
        tex="paper_tables/{item}.tex",
        prov="paper_tables/{item}.provenance.json",
    params:
        item="{item}",
        tolerance=config["render"]["tolerance"],
    wildcard_constraints:
        item="|".join(TABLES) or "NONE",
    log:
        f"{LOGS}/render_table/{{item}}.log",
    conda:
        TORCH_ENV
    script:
        "../scripts/render_table.py"


rule render_figure:
    input:
        unpack(lambda w: FIGURES[w.item]["inputs"]),
    output:
        pdf="figures/{item}.pdf",
        png=report(
            "figures/{item}.png",
            caption="../report/figure.rst",
            category="Figures",
            subcategory="{item}",
        ),
        prov="figures/{item}.provenance.json",
    params:
        study=lambda w: FIGURES[w.item]["study"],
        entry="plot",
        cfg=lambda w: study_config(config, FIGURES[w.item]["study"]),
    wildcard_constraints:
        item="|".join(FIGURES) or "NONE",
    log:
        f"{LOGS}/render_figure/{{item}}.log",
    conda:
        TORCH_ENV
    script:
        "../scripts/job.py"


rule audit:
    input:
        all_targets(),
    output:
        f"{RES}/audit.txt",
    log:
        f"{LOGS}/audit.log",
    conda:
        TORCH_ENV
    shell:
        "toeplitznet audit --output {output} > {log} 2>&1 || (cat {log}; exit 1)"
