"""ImageNet (ILSVRC2012) for the training and evaluation jobs: streamed from ``data.imagenet_root``, never
loaded whole (1.28M images). Training: RandomResizedCrop(224) + horizontal flip; evaluation: Resize(256) +
CenterCrop(224) (the standard ResNet protocol; the thesis does not state its preprocessing). Pixels in [0, 1]:
the model normalises. The folder is the one the data rule checked (its manifest's ``source_dir``).
"""

from __future__ import annotations

from pathlib import Path


def _root(inputs) -> Path:
    return Path(inputs["manifest"]).parent


def train_set(inputs):
    from torchvision import transforms

    from ..data import imagenet_folder

    tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
                             transforms.ToTensor()])
    return imagenet_folder(_root(inputs), "train", transform=tf)


def eval_set(inputs, subset=None, seed: int = 0):
    """The validation set (``subset`` images of a seeded subset when given)."""
    from torch.utils.data import Subset
    from torchvision import transforms

    from ..data import imagenet_folder, subset_indices

    tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor()])
    ds = imagenet_folder(_root(inputs), "val", transform=tf)
    if subset is not None:
        ds = Subset(ds, [int(i) for i in subset_indices(len(ds), subset, seed)])
    return ds


def eval_tensors(inputs, n: int, seed: int = 0):
    """The first ``n`` images of the seeded validation subset as tensors (what the attacks read)."""
    import torch

    ds = eval_set(inputs, n, seed)
    xs, ys = zip(*(ds[i] for i in range(len(ds))))
    return torch.stack(xs), torch.tensor(ys, dtype=torch.long)
