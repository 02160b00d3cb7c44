"""The small CNN whose trained kernels Table 5.1 reads at the smoke scale (and at the paper scale until the
Section 5.5 Wide ResNet is trained): ``[conv3x3(pad 1) -> ReLU -> maxpool 2]`` per width, global average
pooling and a linear layer. Convolutions are named ``conv1``, ``conv2``, ... (``conv1.weight`` ...); inputs in
[0, 1] are standardised inside the model with the dataset's training-set statistics (buffers ``mean``/``std``).
"""

from __future__ import annotations

import torch
from torch import nn


class KernelCNN(nn.Module):
    def __init__(self, in_channels: int, channels, num_classes: int, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))
        c_in = in_channels
        for i, c in enumerate(channels, start=1):
            setattr(self, f"conv{i}", nn.Conv2d(c_in, int(c), 3, padding=1))
            c_in = int(c)
        self.n_conv = len(channels)
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x):
        x = (x - self.mean) / self.std
        for i in range(1, self.n_conv + 1):
            x = torch.nn.functional.max_pool2d(torch.relu(getattr(self, f"conv{i}")(x)), 2)
        return self.fc(x.mean(dim=(2, 3)))


def kernel_cnn(channels, dataset: str) -> KernelCNN:
    """:class:`KernelCNN` sized for ``dataset`` (channels, classes and standardisation from
    :data:`toeplitznet.data.INFO`)."""
    from ..data import INFO

    info = INFO[dataset]
    return KernelCNN(info.shape[0], list(channels), info.num_classes, info.mean, info.std)
