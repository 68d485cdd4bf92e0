import pytest
import torch

from netgraph.errors import InvalidParameterError
from netgraph.fidelity import Fidelity, check_specialisation, mix_calibration


def _encoder(cosine):
    return Fidelity("encoder", 100, cosine, retrieval_agreement=0.5, k=10)


@pytest.mark.parametrize(
    "inside, outside, fires",
    [
        (0.977, 0.664, True),   # template sentences -> real text (issue 16)
        (0.944, 0.940, False),  # in-domain real text
        (0.944, 0.900, False),  # reference loss below twice the in-domain loss
        (0.944, 0.880, True),
        (0.995, 0.985, False),  # within min_gap
    ],
)
def test_specialisation_fires_only_for_a_large_relative_drop(inside, outside, fires):
    check = check_specialisation(_encoder(inside), _encoder(outside))
    assert check.specialised is fires
    assert f"{inside:.3f}" in check.sentence and f"{outside:.3f}" in check.sentence
    assert ("specialised to its calibration data" in check.sentence) is fires


def test_specialisation_uses_agreement_for_classifiers_and_refuses_mixed_kinds():
    inside = Fidelity("classifier", 10, 0.99, agreement=0.98)
    outside = Fidelity("classifier", 10, 0.99, agreement=0.70)
    check = check_specialisation(inside, outside)
    assert check.specialised and check.metric == "agreement with the original"
    with pytest.raises(InvalidParameterError, match="like with like"):
        check_specialisation(inside, _encoder(0.9))


def test_mix_keeps_size_and_proportion():
    data = [torch.zeros(32, 3) for _ in range(4)]
    reference = [torch.ones(50, 3) for _ in range(3)]
    for mix in (0.0, 0.25, 0.5, 1.0):
        mixed = mix_calibration(data, reference, mix)
        rows = torch.cat(mixed)
        assert rows.shape == (128, 3)
        assert int(rows[:, 0].sum()) == round(mix * 128)
    assert mix_calibration(data, reference, 0.0) == data


def test_mix_pads_token_batches_to_a_common_length():
    data = [{"input_ids": torch.ones(4, 5, dtype=torch.long), "attention_mask": torch.ones(4, 5, dtype=torch.long)}]
    reference = [{"input_ids": 2 * torch.ones(6, 9, dtype=torch.long), "attention_mask": torch.ones(6, 9, dtype=torch.long)}]
    mixed = mix_calibration(data, reference, 0.5, batch_rows=2)
    assert sum(b["input_ids"].shape[0] for b in mixed) == 4
    ids = torch.cat([b["input_ids"] for b in mixed])
    mask = torch.cat([b["attention_mask"] for b in mixed])
    assert ids.shape[1] == 9 and int((ids == 2).any(1).sum()) == 2
    assert int(mask[(ids == 1).any(1)].sum()) == 2 * 5  # padding is masked out


def test_mix_checks_arguments():
    with pytest.raises(InvalidParameterError, match="'mix' parameter"):
        mix_calibration([torch.zeros(2, 2)], [torch.ones(2, 2)], 1.5)
    with pytest.raises(InvalidParameterError, match="needs reference data"):
        mix_calibration([torch.zeros(2, 2)], [], 0.5)
