import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from netgraph.zoo import load_dataset


def small_mlp(hidden: int = 32, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))


@pytest.fixture(scope="session")
def make_mlp():
    """Factory of small digits MLPs: ``make_mlp(hidden=32, seed=0)``."""
    return small_mlp


@pytest.fixture(scope="session")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="session")
def trained_state(digits):
    """Weights of a small digits MLP trained once per session (~1 s)."""
    from netgraph.train import finetune

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = small_mlp()
        finetune(model, digits.train, epochs=15, lr=3e-3, batch_size=32)
    finally:
        torch.set_num_threads(previous)
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.fixture
def trained_mlp(trained_state):
    model = small_mlp()
    model.load_state_dict(trained_state)
    return model.eval()


@pytest.fixture
def tiny_dataset():
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(40, 64, generator=generator)
    y = torch.randint(0, 10, (40,), generator=generator)
    return TensorDataset(X, y)
