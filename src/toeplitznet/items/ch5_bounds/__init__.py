"""Chapter 5, Sections 5.1-5.4: LipBound, the spectral-norm bound of convolutions, and its rivals
(Figures 5.1, 5.2, Tables 5.1, 5.2). The library is :mod:`toeplitznet.bounds`."""


def check_config(config) -> None:
    """Cross-field checks of the chapter's sections (called by :func:`toeplitznet.config.validate`)."""
    p = config.get("studies", {}).get("fig_5_2")
    if p and int(p["n_min"]) > int(p["n_max"]):
        raise ValueError(f"config key studies.fig_5_2.n_min: {p['n_min']} is larger than studies.fig_5_2.n_max "
                         f"= {p['n_max']} (the n-range of Figure 5.2 would be empty)")
