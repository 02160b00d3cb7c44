"""The claims check (issue: "every directional claim of the thesis tested at a medium scale"): one item,
``claims``, that judges the claims the chapter packages declare (``CLAIMS`` lists, collected by the item
registry) from the seed-level results of their runs. It renders at every scale; the ``medium`` scale
(config/medium.yaml, ``--profile profiles/medium``) exists for it. See docs/claims.md.
"""
