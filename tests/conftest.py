"""Shared fixtures: tiny models of every architecture family netgraph must handle."""

from __future__ import annotations

import os

import pytest
import torch
from torch import nn

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# Hypothesis: every checkout runs the same examples as CI. "default" is derandomised (the
# examples follow from each test's code alone) and keeps no example database, so a failure
# saved in a local .hypothesis/ folder can never make one checkout's `make test` differ from
# another's; a failing example is printed to add as @example. NETGRAPH_HYPOTHESIS=explore
# searches afresh (random seeds, database in a temporary folder) for bug hunting.
from hypothesis import settings as _hypothesis_settings  # noqa: E402
from hypothesis.database import DirectoryBasedExampleDatabase  # noqa: E402

_hypothesis_settings.register_profile("default", derandomize=True, database=None, print_blob=True)
_hypothesis_settings.register_profile(
    "explore", derandomize=False, print_blob=True,
    database=DirectoryBasedExampleDatabase(os.path.join(__import__("tempfile").gettempdir(), "netgraph-hypothesis")),
)
_hypothesis_settings.load_profile(os.environ.get("NETGRAPH_HYPOTHESIS", "default"))


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One intra-op thread per test process: `make test` runs two pytest-xdist workers on
    two cores, so more threads only oversubscribe them (and the test models are small)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


class TinyCNN(nn.Module):
    """conv-BN-ReLU ×2 with max pooling and a Flatten into a Linear head."""

    def __init__(self, channels: tuple[int, int] = (6, 8)):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels[0], 3, padding=1)
        self.bn1 = nn.BatchNorm2d(channels[0])
        self.conv2 = nn.Conv2d(channels[0], channels[1], 3, padding=1)
        self.bn2 = nn.BatchNorm2d(channels[1])
        self.fc = nn.Linear(channels[1] * 2 * 2, 5)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = nn.functional.max_pool2d(torch.relu(self.bn2(self.conv2(x))), 2)
        return self.fc(x.flatten(1))


class BasicBlock(nn.Module):
    def __init__(self, channels: int, out_channels: int | None = None):
        super().__init__()
        out_channels = out_channels or channels
        self.conv1 = nn.Conv2d(channels, out_channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample = None
        if out_channels != channels:
            self.downsample = nn.Sequential(nn.Conv2d(channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + identity)


class TinyResNet(nn.Module):
    """A stem, two residual blocks (one with a 1×1 downsample), global pooling, a head."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(BasicBlock(8), BasicBlock(8, 12))
        self.fc = nn.Linear(12, 4)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.layer1(x)
        return self.fc(x.mean((2, 3)))


def randomise_batchnorm(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give BatchNorm layers non-trivial running statistics and affine parameters."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                n = module.num_features
                module.running_mean.copy_(torch.rand(n, generator=generator) - 0.5)
                module.running_var.copy_(torch.rand(n, generator=generator) * 1.5 + 0.5)
                module.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                module.bias.copy_(torch.rand(n, generator=generator) * 0.4 - 0.2)
    return model


@pytest.fixture
def tiny_mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(10, 24), nn.ReLU(), nn.Linear(24, 16), nn.ReLU(), nn.Linear(16, 3)
    ).eval()


@pytest.fixture
def tiny_cnn() -> nn.Module:
    torch.manual_seed(0)
    return randomise_batchnorm(TinyCNN()).eval()


@pytest.fixture
def tiny_resnet() -> nn.Module:
    torch.manual_seed(0)
    return randomise_batchnorm(TinyResNet()).eval()


@pytest.fixture
def mlp_batches() -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return [torch.randn(32, 10, generator=generator) for _ in range(6)]


@pytest.fixture
def image_batches() -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return [torch.randn(16, 1, 8, 8, generator=generator) for _ in range(6)]


@pytest.fixture(scope="session")
def minilm():
    """all-MiniLM-L6-v2 and a few encoded sentence batches (offline)."""
    from netgraph import zoo

    model = zoo.load_model("minilm")
    tokenizer = zoo.load_tokenizer()
    sentences = list(zoo.load_dataset("text").train[:96])
    batches = [zoo.encode_sentences(tokenizer, sentences[i : i + 32]) for i in range(0, 96, 32)]
    return model, batches


# ----------------------------------------------------------------- optional extras
# `@pytest.mark.requires("graspologic")` (or several module names) marks a test that needs an
# optional extra; without it the test is skipped with the extra named, so the core install
# (make test-core: no graspologic, NumPy 2) runs the whole suite minus exactly those tests.
_EXTRA_OF = {"graspologic": "graspologic", "onnx": "export", "onnxscript": "export", "onnxruntime": "export",
             "transformers": "data", "mlxtend": "data"}


def pytest_collection_modifyitems(config, items):
    import importlib.util

    for item in items:
        for marker in item.iter_markers("requires"):
            missing = [name for name in marker.args if importlib.util.find_spec(name) is None]
            if missing:
                extras = sorted({_EXTRA_OF.get(name, name) for name in missing})
                item.add_marker(pytest.mark.skip(
                    reason=f"needs {', '.join(missing)} (pip install 'netgraph[{','.join(extras)}]')"))
