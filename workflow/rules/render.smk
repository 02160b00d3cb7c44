# Generic rules: render a table (ours beside the thesis), draw a figure, audit one scale's renders.
# Renders are scale-separated (paper_tables/<scale>/, figures/<scale>/): a paper run never overwrites smoke
# renders and the other way round.


rule render_table:
    input:
        results=lambda w: PLAN.tables[w.item],
        thesis="reference/thesis_values.csv",
    output:
        html=report(
            f"{PATHS.tables}/{{item}}.html",
            caption="../report/table.rst",
            category="Tables",
            subcategory="{item}",
        ),
        csv=f"{PATHS.tables}/{{item}}.csv",
        md=f"{PATHS.tables}/{{item}}.md",
        tex=f"{PATHS.tables}/{{item}}.tex",
        prov=f"{PATHS.tables}/{{item}}.provenance.json",
    params:
        item="{item}",
        title=lambda w: PLAN.title(w.item),
        scale_text=SCALE,
        tolerance=config["render"]["tolerance"],
        code=PLAN.table_code,
        scale_deviations=PLAN.scale_deviations,
    wildcard_constraints:
        item="|".join(PLAN.tables) or "NONE",
    log:
        f"{LOGS}/render_table/{{item}}.log",
    conda:
        TORCH_ENV
    script:
        "../scripts/render_table.py"


rule render_figure:
    input:
        unpack(lambda w: PLAN.figures[w.item].inputs),
    output:
        pdf=f"{PATHS.figures}/{{item}}.pdf",
        png=report(
            f"{PATHS.figures}/{{item}}.png",
            caption="../report/figure.rst",
            category="Figures",
            subcategory="{item}",
        ),
        prov=f"{PATHS.figures}/{{item}}.provenance.json",
    params:
        title=lambda w: PLAN.title(w.item),
        study="{item}",
        entry="plot",
        cfg=lambda w: PLAN.figures[w.item].cfg,
        code=lambda w: PLAN.figures[w.item].code,
    wildcard_constraints:
        item="|".join(PLAN.figures) or "NONE",
    log:
        f"{LOGS}/render_figure/{{item}}.log",
    conda:
        TORCH_ENV
    script:
        "../scripts/job.py"


rule audit:
    input:
        PLAN.render_targets(),
    output:
        f"{RES}/audit.txt",
    params:
        configfiles=list(workflow.configfiles),
        scale=SCALE,
    log:
        f"{LOGS}/audit.log",
    conda:
        TORCH_ENV
    script:
        "../scripts/audit.py"
