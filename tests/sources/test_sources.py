"""netgraph.sources: specs checked before loading, data files read safely, text encoded once."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from netgraph.errors import CalibrationError, CheckpointError, InvalidParameterError, NetgraphError
from netgraph.sources import (ModelInfo, check_data_spec, check_model_spec, load_data, load_model, read_tensor_file,
                              read_weights)


class WordTokenizer:
    """A stand-in Hugging Face tokenizer: one id per word, padded; no token_type_ids."""

    def __call__(self, sentences, padding=True, truncation=True, max_length=64, return_tensors="pt"):
        ids = [[1 + (hash(word) % 50) for word in s.split()][:max_length] for s in sentences]
        width = max(len(row) for row in ids)
        input_ids = torch.tensor([row + [0] * (width - len(row)) for row in ids])
        return {"input_ids": input_ids, "attention_mask": (input_ids > 0).long()}


class TinyTextModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(64, 8)
        self.mix = nn.Linear(8, 8)

    def forward(self, input_ids, attention_mask, token_type_ids):
        hidden = self.mix(self.embed(input_ids) + token_type_ids.unsqueeze(-1))
        return hidden * attention_mask.unsqueeze(-1)


def test_sentence_txt_data_works_for_text_models(tmp_path):
    """Issue 9: every .txt file crashed with UnboundLocalError 'file_labels' for text models."""
    (tmp_path / "s.txt").write_text("a cat.\nA dog.\n\n the third sentence here\n")
    info = ModelInfo("tiny", "factory", "tiny", text=True, tokenizer=WordTokenizer())
    data = load_data(str(tmp_path / "s.txt"), TinyTextModel(), info, batch_size=2)
    assert data.n_calibration + data.n_held_out == 3 and data.held_out_labels is None
    batch = data.calibration[0]
    assert set(batch) == {"input_ids", "attention_mask", "token_type_ids"}  # zoo's encoder fills token_type_ids
    assert torch.equal(batch["token_type_ids"], torch.zeros_like(batch["input_ids"]))


@pytest.mark.slow
def test_sentence_txt_data_with_minilm(tmp_path):
    (tmp_path / "s.txt").write_text("a cat.\nA dog.\n")
    model, _, info = load_model("zoo:minilm")
    data = load_data(str(tmp_path / "s.txt"), model, info)
    assert data.n_calibration == 1 and data.n_held_out == 1


def test_text_for_a_non_text_model_is_a_calibration_error(tmp_path):
    (tmp_path / "s.txt").write_text("one\ntwo\n")
    with pytest.raises(CalibrationError, match="not a text model"):
        load_data(str(tmp_path / "s.txt"), nn.Linear(3, 2), ModelInfo("m", "factory", "m"))


def test_fractional_labels_are_refused_not_cast_to_class_zero(tmp_path):
    x = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    np.savez(tmp_path / "frac.npz", x=x, y=np.linspace(0, 1, 10))
    with pytest.raises(CheckpointError, match="not class indices"):
        read_tensor_file(tmp_path / "frac.npz")
    np.savez(tmp_path / "whole.npz", x=x, y=np.arange(10, dtype=np.float64) % 3)
    _, labels = read_tensor_file(tmp_path / "whole.npz")
    assert labels.dtype == torch.long and labels.tolist() == [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]


def test_non_finite_data_is_refused(tmp_path):
    x = np.ones((10, 3), dtype=np.float32)
    x[2, 1] = np.inf
    np.save(tmp_path / "inf.npy", x)
    with pytest.raises(CheckpointError, match="NaN or infinite"):
        load_data(str(tmp_path / "inf.npy"), nn.Linear(3, 2), ModelInfo("m", "factory", "m"))


def test_a_folder_given_as_weights_is_named_as_a_folder(tmp_path):
    with pytest.raises(CheckpointError, match="is a folder"):
        read_weights(tmp_path)
    with pytest.raises(CheckpointError, match="is a folder"):
        check_model_spec("collections:OrderedDict", tmp_path)


def test_pickled_models_need_permission(tmp_path):
    torch.save(nn.Linear(2, 2), tmp_path / "whole.pt")
    with pytest.raises(CheckpointError, match="unsafe-pickle"):
        load_model(str(tmp_path / "whole.pt"))
    model, _, info = load_model(str(tmp_path / "whole.pt"), allow_pickle=True)
    assert isinstance(model, nn.Linear) and info.kind == "pickle"


@pytest.mark.parametrize(
    "spec, weights, error, words",
    [
        ("", None, InvalidParameterError, "empty"),
        ("zoo:nope", None, InvalidParameterError, "Unknown zoo model"),
        ("zoo:mlp-digits", "w.safetensors", InvalidParameterError, "cannot be combined"),
        ("plainword", None, InvalidParameterError, "zoo:NAME"),
        ("a-b.c:make", None, InvalidParameterError, "package.module:factory"),
        ("missing.pt", None, CheckpointError, "does not exist"),
        ("collections:OrderedDict", "missing.safetensors", CheckpointError, "does not exist"),
    ],
)
def test_model_specs_are_checked_without_loading(spec, weights, error, words):
    with pytest.raises(error, match=words):
        check_model_spec(spec, weights)


@pytest.mark.parametrize(
    "spec, words", [("", "empty"), ("zoo:nothing", "Unknown zoo data set"), ("missing.npy", "does not exist"),
                    ("{folder}", "is a folder"), ("{csv}", "unknown type")],
)
def test_data_specs_are_checked_without_reading(tmp_path, spec, words):
    (tmp_path / "d.csv").write_text("1,2\n")
    spec = spec.format(folder=tmp_path, csv=tmp_path / "d.csv")
    with pytest.raises(NetgraphError, match=words):
        check_data_spec(spec)


def test_an_unwritable_zoo_cache_is_refused_before_training(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("NETGRAPH_CACHE_DIR", str(tmp_path / "file" / "cache"))
    with pytest.raises(CheckpointError, match="NETGRAPH_CACHE_DIR"):
        check_model_spec("zoo:lenet-300-100")
