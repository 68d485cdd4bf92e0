"""What statistics cost: the precision of per-batch products, the memory budget, and
layer kinds whose inputs are unfolded (Conv3d)."""

import importlib

import numpy as np
import pytest
import torch
from torch import nn

from netgraph import apply_plan, plan_reduction
from netgraph.calibrate import calibrate
from netgraph.calibrate.calibrate import stream_statistics
from netgraph.calibrate.capture import consumer_inputs, consumer_outputs
from netgraph.calibrate.stats import ConsumerStats, UnitStats
from netgraph.graph.groups import find_unit_groups


def _digits_hidden() -> torch.Tensor:
    from sklearn.datasets import load_digits

    digits = torch.as_tensor(load_digits().data, dtype=torch.float32) / 16.0
    torch.manual_seed(0)
    layer = nn.Linear(64, 128)
    with torch.no_grad():
        return torch.relu(layer(digits))  # (1797, 128) real-data activations, float32


def test_float32_products_accumulated_in_float64_match_float64_on_real_digits():
    """Per-batch products in the model's dtype (float32), sums in float64: the Gram of
    real digit activations is within 1e-6 (relative, Frobenius) of an all-float64 one."""
    hidden = _digits_hidden()
    fast, exact = UnitStats.empty(128), UnitStats.empty(128)
    for batch in hidden.split(64):
        fast.update(batch)  # float32 products
        exact.update(batch.double())  # float64 throughout
    error = np.linalg.norm(fast.gram - exact.gram) / np.linalg.norm(exact.gram)
    assert error < 1e-6
    np.testing.assert_allclose(fast.total, exact.total, rtol=1e-6)


def test_consumer_gram_beyond_the_memory_budget_falls_back_to_means():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 40), nn.ReLU(), nn.Linear(40, 30), nn.ReLU(), nn.Linear(30, 2)).eval()
    data = [torch.randn(32, 6) for _ in range(3)]
    groups = [g for g in find_unit_groups(model, data[0]) if g.foldable]
    # Unit Grams (40² + 30², with sums), the 31² consumer Gram and the refused consumer's
    # 40 input sums fit; the 41² Gram does not.
    budget = 8 * (40 * 40 + 40 + 30 * 30 + 30 + 31 * 31 + 40) + 100
    stats = stream_statistics(model, data, groups, memory_budget=budget)
    assert stats.consumers["2"].gram is None and "memory budget" in stats.consumers["2"].fallback
    assert stats.consumers["4"].gram is not None
    assert stats.nbytes <= budget
    hidden = torch.cat([torch.relu(model[0](x)) for x in data]).detach().double()
    np.testing.assert_allclose(stats.consumers["2"].input_mean, hidden.mean(0).numpy(), rtol=1e-6)
    # Unit statistics of the refused consumer's group are still gathered (units², small).
    assert stats.units["0"].gram.shape == (40, 40)


def test_plan_says_which_group_fell_back(monkeypatch):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 40), nn.ReLU(), nn.Linear(40, 2)).eval()
    data = [torch.randn(32, 6) for _ in range(3)]
    calibrate_module = importlib.import_module("netgraph.calibrate.calibrate")
    monkeypatch.setattr(calibrate_module, "DEFAULT_MEMORY_BUDGET", 8 * (40 * 40 + 40) + 400)
    plan = plan_reduction(model, data[0], keep=0.5, method="activation", fold="lstsq", calibration=data, sequential=False)
    assert "memory budget" in plan.groups[0].metrics["fallback"]["2"]
    reduced = apply_plan(model, plan)
    assert reduced[2].in_features == 20


def test_conv3d_unfolded_inputs_reproduce_the_layer():
    torch.manual_seed(0)
    conv = nn.Conv3d(3, 5, kernel_size=(3, 2, 3), stride=(1, 2, 1), padding=(1, 0, 1))
    x = torch.randn(2, 3, 6, 7, 5)
    patches = consumer_inputs(conv, x, None)
    predicted = patches @ conv.weight.reshape(5, -1).T + conv.bias
    torch.testing.assert_close(predicted, consumer_outputs(conv, conv(x), None), rtol=1e-4, atol=1e-5)


def test_calibration_reports_its_memory():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    stats = calibrate(model, [torch.randn(16, 4)])
    # Consumer Gram 9×9; the unit Gram is a copied block of it (8×8) plus its sums.
    assert stats.nbytes == 8 * (9 * 9 + 8 * 8 + 8)


class _Branches(nn.Module):
    """Inception-style: three 1×1 convolutions read one tensor, a fourth reads its pooling."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 6, 3, padding=1)
        self.a, self.b, self.c = nn.Conv2d(6, 4, 1), nn.Conv2d(6, 4, 1), nn.Conv2d(6, 4, 1)
        self.pool_branch = nn.Conv2d(6, 4, 1)
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        pooled = nn.functional.max_pool2d(x, 3, 1, 1)
        y = torch.cat([self.a(x), self.b(x), self.c(x), self.pool_branch(pooled)], 1)
        return self.head(y.mean((2, 3)))


def test_consumers_reading_one_input_share_one_gram():
    torch.manual_seed(0)
    model = _Branches().eval()
    data = [torch.randn(4, 3, 6, 6) for _ in range(3)]
    stats = calibrate(model, data)
    consumers = stats.consumers
    assert consumers["a"] is consumers["b"] is consumers["c"]  # accumulated once
    assert consumers["pool_branch"] is not consumers["a"]
    inputs = torch.cat([torch.relu(model.stem(x)).detach().movedim(1, -1).reshape(-1, 6) for x in data]).double()
    np.testing.assert_allclose(consumers["b"].gram[:-1, :-1], (inputs.T @ inputs).numpy(), rtol=1e-5)
    assert consumers["c"].count == inputs.shape[0]
    every_entry = sum(a.nbytes for st in [*stats.units.values(), *consumers.values()]
                      for a in vars(st).values() if isinstance(a, np.ndarray))
    assert stats.nbytes == every_entry - 2 * consumers["a"].gram.nbytes  # the shared Gram counts once


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gram_by_symmetric_update_equals_the_full_product(dtype):
    """The syrk update fills both triangles, counts the diagonal once and keeps adding."""
    from netgraph.calibrate.stats import _accumulate_gram

    generator = torch.Generator().manual_seed(0)
    first, second = (torch.randn(n, 37, generator=generator, dtype=dtype) for n in (50, 21))
    target = np.zeros((37, 37))
    _accumulate_gram(target, first)
    _accumulate_gram(target, second.T.contiguous().T)  # a non-contiguous batch
    _accumulate_gram(target, first[:0])  # an empty batch adds nothing
    expected = (first.double().T @ first.double() + second.double().T @ second.double()).numpy()
    tolerance = 1e-12 if dtype == torch.float64 else 1e-5
    np.testing.assert_allclose(target, expected, rtol=tolerance, atol=tolerance * np.abs(expected).max())
    np.testing.assert_array_equal(target, target.T)
