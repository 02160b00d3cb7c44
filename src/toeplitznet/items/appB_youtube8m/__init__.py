"""Appendix B: compact YouTube-8M video classifiers with circulant layers (thesis L7000-7325, settings S3).

Items: Tables B.1-B.3 and Figures B.3-B.9. Runs (rule ``train_run``) come from :mod:`toeplitznet.yt8m.runs`
(shared with Chapter 4's Table 4.4, whose networks are Table B.1's), with the settings of
``studies.yt8m_train`` and the data of ``studies.yt8m_data`` (both declared by :mod:`..ch4_youtube8m`).
"""
