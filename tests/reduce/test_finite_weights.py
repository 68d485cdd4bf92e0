"""check_finite_weights: a cheap sum first, the element-wise check only when it is not finite."""

import pytest
import torch
from torch import nn

from netgraph.errors import InvalidParameterError
from netgraph.reduce.planning import check_finite_weights


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_refuses_any_non_finite_weight(bad, dtype):
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 2)).to(dtype)
    with torch.no_grad():
        model[2].bias[1] = bad
    with pytest.raises(InvalidParameterError, match="NaN or Inf values in '2.bias'"):
        check_finite_weights(model)


def test_large_finite_weights_whose_sum_overflows_pass():
    model = nn.Sequential(nn.Linear(6, 5)).to(torch.float16)
    with torch.no_grad():
        model[0].weight.fill_(6e4)  # the float16 sum overflows; every weight is finite
    assert not torch.isfinite(model[0].weight.sum())
    check_finite_weights(model)
