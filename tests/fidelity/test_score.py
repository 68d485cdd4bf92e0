import pytest
import torch
from torch import nn

from netgraph.errors import InvalidParameterError
from netgraph.fidelity import Fidelity, measure_fidelity


def _classifier(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))


def test_classifier_fidelity_with_labels():
    model = _classifier(0)
    x = torch.randn(64, 8, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        labels = model(x).argmax(1)
    same = measure_fidelity(model, model, [x[:32], x[32:]], labels=labels)
    assert same.kind == "classifier" and same.n_samples == 64
    assert same.agreement == 1.0 and same.accuracy == 1.0 and same.original_accuracy == 1.0
    other = measure_fidelity(model, _classifier(1), [x], labels=labels)
    assert other.agreement < 1.0 and other.accuracy == other.agreement  # labels are the original's predictions
    assert other.headline == other.agreement


class _Encoder(nn.Module):
    """Token states like a Hugging Face model: an object with last_hidden_state."""

    def __init__(self, noise=0.0):
        super().__init__()
        self.embedding = nn.Embedding(50, 12)
        torch.nn.init.normal_(self.embedding.weight, generator=torch.Generator().manual_seed(3))
        self.noise = noise

    def forward(self, input_ids, attention_mask):
        hidden = self.embedding(input_ids)
        hidden = hidden + self.noise * torch.randn(hidden.shape, generator=torch.Generator().manual_seed(4))

        class Output:
            last_hidden_state = hidden

        return Output()


def test_encoder_fidelity_pools_real_tokens():
    ids = torch.randint(1, 50, (30, 7), generator=torch.Generator().manual_seed(5))
    mask = torch.ones_like(ids)
    mask[:, 5:] = 0
    batch = {"input_ids": ids, "attention_mask": mask}
    same = measure_fidelity(_Encoder(), _Encoder(), [batch])
    assert same.kind == "encoder" and same.mean_cosine == pytest.approx(1.0) and same.retrieval_agreement == 1.0
    noisy = measure_fidelity(_Encoder(), _Encoder(noise=0.5), [batch])
    assert noisy.mean_cosine < 0.99 and noisy.retrieval_agreement < 1.0 and noisy.headline == noisy.mean_cosine
    padded = dict(batch, input_ids=torch.where(mask.bool(), ids, torch.zeros_like(ids)))
    assert measure_fidelity(_Encoder(), _Encoder(), [padded]).mean_cosine == pytest.approx(1.0)


def test_round_trip_and_bad_kind():
    record = Fidelity("encoder", 10, 0.9, retrieval_agreement=0.8, k=9, data="held-out")
    assert Fidelity.from_dict(record.to_dict()) == record
    with pytest.raises(InvalidParameterError, match="'kind' parameter"):
        measure_fidelity(nn.Linear(2, 2), nn.Linear(2, 2), [torch.randn(3, 2)], kind="regression")
    with pytest.raises(InvalidParameterError, match="at least one batch"):
        measure_fidelity(nn.Linear(2, 2), nn.Linear(2, 2), [])


def test_mode_is_restored():
    model = _classifier(0).train()
    measure_fidelity(model, model, [torch.randn(4, 8)])
    assert model.training
