"""Chapter 5, Section 5.5: Lipschitz-regularised adversarial training (AT, AT+PM, AT+LipReg WideResNets and
ResNet-101). Pending: attacks library, regulariser, training rules."""

from ...registry import Item

PENDING = [
    Item(id="table_5_3", kind="table", title="Lipschitz-regularised AT on CIFAR-10/100 under ℓ2 / ℓ∞ attacks",
         thesis_lines="L6190-6208"),
    Item(id="table_5_4", kind="table", title="Lipschitz-regularised AT on ImageNet", thesis_lines="L6232-6242"),
    Item(id="fig_5_3", kind="figure", title="accuracy under attack vs attack iterations (CIFAR-10)",
         thesis_lines="L6170-6182"),
    Item(id="fig_5_4", kind="figure", title="distribution of the input-Jacobian norm (CIFAR-10 test set)",
         thesis_lines="L6183-6226"),
]
