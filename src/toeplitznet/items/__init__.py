"""The thesis's items, one package per chapter (see :mod:`toeplitznet.registry` for what a module declares).

=================  ===========================================================================
``ch4_dcnn``       Chapter 4: diagonal-circulant networks (Figures 4.2-4.6, Tables 4.1, 4.2, 4.5, ECAI 2(a))
``ch4_youtube8m``  Chapter 4: DCNNs on YouTube-8M (Tables 4.3, 4.4)
``ch5_bounds``     Chapter 5.1-5.4: LipBound and its rivals (Figures 5.1, 5.2, Tables 5.1, 5.2)
``ch5_robust``     Chapter 5.5: Lipschitz-regularised adversarial training (Tables 5.3, 5.4, Figures 5.3, 5.4)
``appB_youtube8m`` Appendix B: compact YouTube-8M models (Figures B.3-B.9, Tables B.1-B.3)
``appC_randomized`` Appendix C: randomised networks (Figures C.1-C.3, Tables C.1, C.2)
``appD_multinorm`` Appendix D: multi-norm robustness (Tables D.1-D.3, Figure D.2)
=================  ===========================================================================
"""
