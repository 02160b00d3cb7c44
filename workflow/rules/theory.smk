# Items computed from formulas and random kernels (no training, no data): Figure 5.1 and Table D.1.

register_study("fig_5_1")
register_figure("fig_5_1", "fig_5_1", {"result": study_result("fig_5_1")})

register_study("table_D_1")
register_table("table_D_1", [study_result("table_D_1")])
