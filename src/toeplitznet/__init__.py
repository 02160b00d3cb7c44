"""toeplitznet: replication of A. Araujo's thesis on Toeplitz-structured deep networks.

Subpackages (imported lazily; none of them imports TensorFlow):

- :mod:`toeplitznet.bounds`  spectral-norm bounds of convolutions (LipBound and rivals)
- :mod:`toeplitznet.layers`  structured linear layers (diagonal-circulant, Toeplitz, ACDC, LDR, ...)
- :mod:`toeplitznet.models`  networks built from those layers
- :mod:`toeplitznet.data`    verified dataset downloads and loaders
- :mod:`toeplitznet.train`   the shared, resumable trainer
- :mod:`toeplitznet.studies` one module per thesis study (what the Snakemake rules run)
- :mod:`toeplitznet.report`  provenance, rendering of tables and figures, audit
"""

__version__ = "0.1.0"
