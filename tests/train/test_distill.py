import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from netgraph.errors import InvalidParameterError
from netgraph.train import distill
from netgraph.zoo import accuracy, sentence_embeddings



def _agreement(student, teacher, X):
    with torch.no_grad():
        return float((student(X).argmax(1) == teacher(X).argmax(1)).float().mean())


def test_distill_classifier_with_labels(trained_mlp, digits, make_mlp):
    student = make_mlp(hidden=16, seed=5)
    before = accuracy(student, digits.test)
    history = distill(student, trained_mlp, digits.train, epochs=8, lr=1e-2, batch_size=32, val_data=digits.val)
    assert history.val_metric_name == "val_accuracy"
    assert accuracy(student, digits.test) > max(0.85, before + 0.5)
    assert _agreement(student, trained_mlp, digits.test.tensors[0]) > 0.85
    assert not trained_mlp.training and all(p.grad is None for p in trained_mlp.parameters())


def test_distill_without_labels_uses_soft_targets_only(trained_mlp, digits, make_mlp):
    unlabelled = TensorDataset(digits.train.tensors[0])
    student = make_mlp(hidden=16, seed=6)
    teacher_weights = trained_mlp[0].weight.clone()
    history = distill(student, trained_mlp, unlabelled, epochs=8, lr=2e-2, temperature=2.0)
    assert history.train_loss[-1] < 0.3 * history.train_loss[0]
    assert _agreement(student, trained_mlp, digits.test.tensors[0]) > 0.85
    assert torch.equal(trained_mlp[0].weight, teacher_weights)  # teacher untouched


@pytest.mark.parametrize("objective", ["mse", "cosine"])
def test_distill_representation_model(objective):
    torch.manual_seed(0)
    teacher = nn.Sequential(nn.Linear(12, 32), nn.Tanh(), nn.Linear(32, 8)).eval()
    student = nn.Sequential(nn.Linear(12, 16), nn.Tanh(), nn.Linear(16, 8))
    X = torch.randn(256, 12)
    val = [X[:64]]

    def cosine(a, b):
        with torch.no_grad():
            return float(nn.functional.cosine_similarity(a(X), b(X), dim=1).mean())

    before = cosine(student, teacher)
    history = distill(student, teacher, TensorDataset(X), objective=objective, epochs=40, lr=1e-2,
                      batch_size=32, val_data=val)
    assert history.val_metric_name == f"val_{objective}_loss" and not history.greater_is_better
    assert cosine(student, teacher) > max(0.9, before + 0.3)


def test_distill_hugging_face_dict_batches_with_output_fn():
    from transformers import BertConfig, BertModel

    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=16)
    torch.manual_seed(0)
    teacher = BertModel(config, add_pooling_layer=False).eval()
    student = BertModel(config, add_pooling_layer=False)
    generator = torch.Generator().manual_seed(0)
    batches = []
    for _ in range(4):
        ids = torch.randint(1, 50, (8, 10), generator=generator)
        mask = torch.ones_like(ids)
        mask[:, 7:] = 0
        batches.append({"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)})

    def mean_cos():
        with torch.no_grad():
            return float(torch.cat([(sentence_embeddings(student, b) * sentence_embeddings(teacher, b)).sum(1)
                                    for b in batches]).mean())

    before = mean_cos()
    history = distill(student, teacher, batches, objective="cosine", output_fn=sentence_embeddings,
                      epochs=15, lr=5e-3)
    assert history.train_loss[-1] < history.train_loss[0]
    assert mean_cos() > before + 0.05


def test_teacher_student_output_mismatch(trained_mlp, digits):
    student = nn.Sequential(nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 5))
    with pytest.raises(InvalidParameterError, match=r"student \(64, 5\), teacher \(64, 10\)"):
        distill(student, trained_mlp, digits.train, epochs=1)


@pytest.mark.parametrize("kwargs, message", [({"objective": "l1"}, "'objective'"), ({"alpha": 1.5}, "'alpha'"),
                                             ({"temperature": 0}, "'temperature'")])
def test_bad_distill_parameters(kwargs, message, trained_mlp, tiny_dataset, make_mlp):
    with pytest.raises(InvalidParameterError, match=message):
        distill(make_mlp(), trained_mlp, tiny_dataset, **kwargs)


def test_distill_from_itself_starts_at_zero_loss(trained_mlp, digits):
    events = []
    distill(trained_mlp, trained_mlp, digits.train, epochs=1, alpha=1.0, lr=1e-6, callback=events.append)
    steps = [e for e in events if e["event"] == "step"]
    # the teacher is a frozen copy, so the first step compares the student with itself
    assert steps[0]["loss"] < 1e-6
    assert all(p.requires_grad for p in trained_mlp.parameters())
