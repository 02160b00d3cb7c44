"""Regularisers of the training objective.

* :class:`LipschitzRegularizer` -- thesis Eq. 5.56 (Section 5.5): l2 term plus ``C2 * sum log`` of the LipBound
  (or power-method) value of every convolution and of every batch norm's bound.
* :func:`bn_lipschitz` -- the l2 Lipschitz constant of a batch norm in eval mode (Tsuzuku et al. 2018).
* :func:`layer_bounds`, :func:`product_of_bounds` -- per-layer values and their composition into an upper bound
  of a network's l2 Lipschitz constant (residual blocks included).
"""

from .lipschitz import LipschitzRegularizer, bn_lipschitz, layer_bounds, product_of_bounds

__all__ = ["LipschitzRegularizer", "bn_lipschitz", "layer_bounds", "product_of_bounds"]
