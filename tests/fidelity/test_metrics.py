import pytest
import torch

from netgraph.errors import InvalidParameterError
from netgraph.fidelity import mean_cosine, prediction_agreement, retrieval_agreement


def test_identical_and_rescaled_outputs_are_perfect():
    x = torch.randn(40, 16, generator=torch.Generator().manual_seed(0))
    assert mean_cosine(x, 3 * x) == pytest.approx(1.0)
    assert retrieval_agreement(x, 3 * x) == 1.0
    assert prediction_agreement(x, 3 * x) == 1.0


def test_retrieval_agreement_falls_with_noise_and_is_chance_for_unrelated_vectors():
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(200, 32, generator=generator)
    small = retrieval_agreement(x, x + 0.1 * torch.randn(200, 32, generator=generator))
    large = retrieval_agreement(x, x + 1.0 * torch.randn(200, 32, generator=generator))
    unrelated = retrieval_agreement(x, torch.randn(200, 32, generator=generator))
    assert 1.0 > small > large > unrelated
    assert unrelated < 0.15  # chance is k / (n - 1) = 10 / 199


def test_retrieval_agreement_counts_overlap_exactly():
    # Points on a line: neighbours by cosine need directions; use 2-D unit vectors at angles.
    angles = torch.tensor([0.0, 0.1, 0.2, 1.5, 1.6, 3.0])
    x = torch.stack([angles.cos(), angles.sin()], 1)
    assert retrieval_agreement(x, x, k=1) == 1.0
    swapped = x[[0, 1, 2, 3, 4, 5]].clone()
    swapped[0] = x[3]  # sample 0 now points like sample 3: its nearest neighbour changes
    assert retrieval_agreement(x, swapped, k=1) < 1.0


def test_k_is_capped_and_checked():
    x = torch.randn(5, 3)
    assert retrieval_agreement(x, x, k=10) == 1.0
    with pytest.raises(InvalidParameterError, match="'k' parameter"):
        retrieval_agreement(x, x, k=0)
    with pytest.raises(InvalidParameterError, match="same shape"):
        mean_cosine(x, x[:4])
