"""Provenance, rendering and audit.

- :mod:`toeplitznet.report.provenance` – atomic writes, hashing, the sidecar beside every result file
- :mod:`toeplitznet.report.tables`     – ours beside the thesis, per-cell status, CSV/Markdown/LaTeX + provenance map
- :mod:`toeplitznet.report.figures`    – scale-stamped figures with the thesis's reference data beside ours
- :mod:`toeplitznet.report.audit`      – re-hash the chain from every rendered number back to its run
- :mod:`toeplitznet.report.walltime`   – wall time of the whole smoke DAG (the benchmark target)
- :mod:`toeplitznet.report.apidoc`     – generates docs/api.md from the library's ``__all__``
"""

# light imports only: matplotlib (report.figures) is imported where a figure is drawn
# (the audit is ``toeplitznet.report.audit.audit``: re-exporting it here would shadow its submodule)
from .provenance import (Provenance, atomic_path, atomic_write_json, atomic_write_text, read_sidecar, sha256_file,
                         sidecar_path)
from .tables import cell_status, collect, render_table

__all__ = ["Provenance", "atomic_path", "atomic_write_json", "atomic_write_text", "cell_status", "collect",
           "read_sidecar", "render_table", "sha256_file", "sidecar_path"]
