import numpy as np
import pytest
import torch
from torch import nn

from netgraph import CalibrationError, calibrate


def test_unit_stats_match_direct_computation(tiny_mlp, mlp_batches):
    stats = calibrate(tiny_mlp, mlp_batches)
    hidden = torch.cat([torch.relu(tiny_mlp[0](x)) for x in mlp_batches]).double().detach()
    assert stats["0"].count == hidden.shape[0]
    np.testing.assert_allclose(stats["0"].mean, hidden.mean(0).numpy(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(stats["0"].gram, (hidden.T @ hidden).numpy(), rtol=1e-6, atol=1e-9)


def test_stats_add_like_one_pass(tiny_mlp, mlp_batches):
    whole = calibrate(tiny_mlp, mlp_batches)
    parts = calibrate(tiny_mlp, mlp_batches[:2]) + calibrate(tiny_mlp, mlp_batches[2:])
    np.testing.assert_allclose(parts["2"].gram, whole["2"].gram, rtol=1e-10)
    assert parts["2"].count == whole["2"].count


def test_memory_does_not_grow_with_data(tiny_mlp, mlp_batches):
    small = calibrate(tiny_mlp, mlp_batches[:1])
    large = calibrate(tiny_mlp, mlp_batches * 5)
    assert small["0"].gram.shape == large["0"].gram.shape == (24, 24)
    assert large.consumers["2"].gram.shape == (25, 25)


def test_conv_positions_are_samples(tiny_cnn, image_batches):
    stats = calibrate(tiny_cnn, image_batches)
    assert stats["conv1"].count == sum(b.shape[0] for b in image_batches) * 4 * 4  # after pooling
    assert stats["conv2"].count == sum(b.shape[0] for b in image_batches) * 2 * 2 * 1


def test_padded_tokens_are_excluded():
    class TokenMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.up = nn.Linear(4, 6)
            self.down = nn.Linear(6, 4)

        def forward(self, hidden, attention_mask):
            return self.down(torch.relu(self.up(hidden))) * attention_mask.unsqueeze(-1)

    torch.manual_seed(0)
    model = TokenMLP().eval()
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    batch = {"hidden": torch.randn(2, 3, 4), "attention_mask": mask}
    stats = calibrate(model, [batch])
    assert stats["up"].count == 3
    kept = torch.relu(model.up(batch["hidden"][mask.bool()])).double().detach()
    np.testing.assert_allclose(stats["up"].gram, (kept.T @ kept).numpy(), rtol=1e-5, atol=1e-7)


def test_empty_data_is_refused(tiny_mlp):
    with pytest.raises(CalibrationError, match="empty"):
        calibrate(tiny_mlp, [], example_inputs=torch.randn(2, 10))


def test_misshaped_batch_names_the_problem(tiny_mlp):
    with pytest.raises(CalibrationError, match="could not run"):
        calibrate(tiny_mlp, [torch.randn(4, 7)], example_inputs=torch.randn(2, 10))


def test_nan_activations_are_refused(tiny_mlp):
    bad = torch.randn(4, 10)
    bad[0, 0] = float("nan")
    with pytest.raises(CalibrationError, match="Non-finite"):
        calibrate(tiny_mlp, [bad], example_inputs=torch.randn(2, 10))
