"""Provenance, rendering and audit.

- :mod:`toeplitznet.report.provenance` – atomic writes, hashing, the sidecar beside every result file
- :mod:`toeplitznet.report.tables`     – ours beside the thesis, per-cell status, CSV/Markdown/LaTeX + provenance map
- :mod:`toeplitznet.report.figures`    – scale-stamped figures with the thesis's reference data beside ours
- :mod:`toeplitznet.report.audit`      – re-hash the chain from every rendered number back to its run
"""
