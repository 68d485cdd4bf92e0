import dataclasses

import pytest

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
