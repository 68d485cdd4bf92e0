"""The vision architectures of the zoo, with readable module names.

Names matter: netgraph names unit groups after the qualified module name of their first
producer (``fc1``, ``conv2``, ``layer1.0.conv1``), so these are what users see.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MLP", "DigitsCNN", "BasicBlock", "DigitsResNet"]


class MLP(nn.Module):
    """Fully connected ReLU network ``in → hidden[0] → hidden[1] → out`` (fc1, fc2, fc3)."""

    def __init__(self, n_inputs: int = 64, hidden: tuple[int, int] = (300, 100), n_classes: int = 10) -> None:
        super().__init__()
        self.fc1 = nn.Linear(n_inputs, hidden[0])
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Linear(hidden[0], hidden[1])
        self.relu2 = nn.ReLU()
        self.fc3 = nn.Linear(hidden[1], n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        return self.fc3(self.relu2(self.fc2(self.relu1(self.fc1(x)))))


class DigitsCNN(nn.Module):
    """conv(1→32)-BN-ReLU, conv(32→64)-BN-ReLU, global average pool, Linear(64, 10)."""

    def __init__(self, channels: tuple[int, int] = (32, 64), n_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels[0])
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(channels[0], channels[1], 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels[1])
        self.relu2 = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels[1], n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.relu2(self.bn2(self.conv2(x)))
        return self.fc(self.pool(x).flatten(1))


class BasicBlock(nn.Module):
    """Two 3×3 conv-BN layers with an identity skip (or a 1×1 conv-BN when shapes change)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu2 = nn.ReLU()
        self.downsample: nn.Module | None = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu2(out + identity)


class DigitsResNet(nn.Module):
    """Small residual CNN for 8×8 digits.

    stem (conv1-bn1-relu, 16 ch) → layer1.0 (16, identity skip) → layer2.0 (32, stride 2,
    1×1 downsample) → layer2.1 (32, identity skip) → global pool → fc.
    """

    def __init__(self, widths: tuple[int, int] = (16, 32), n_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU()
        self.layer1 = nn.Sequential(BasicBlock(widths[0], widths[0]))
        self.layer2 = nn.Sequential(BasicBlock(widths[0], widths[1], stride=2), BasicBlock(widths[1], widths[1]))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[1], n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        return self.fc(self.pool(x).flatten(1))
