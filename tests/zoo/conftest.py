import dataclasses

import pytest
import torch

from netgraph.zoo import models


@pytest.fixture(scope="session")
def zoo_cache(tmp_path_factory):
    """One fresh cache folder shared by the tests that need fully trained zoo models."""
    return tmp_path_factory.mktemp("zoo-cache")


@pytest.fixture
def quick_recipe(monkeypatch):
    """Make 'mlp-digits' train for one epoch so cache tests stay fast."""
    quick = dataclasses.replace(models.RECIPES["mlp-digits"], epochs=1)
    monkeypatch.setitem(models.RECIPES, "mlp-digits", quick)
    return "mlp-digits"


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """These models are tiny: one intra-op thread is as fast, and far faster on a busy machine."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
