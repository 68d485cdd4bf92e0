"""Where models and data come from: the MODEL and DATA specs of the CLI, as library calls.

MODEL (:func:`load_model`): ``zoo:NAME``; a local Hugging Face model folder
(``config.json``, loaded offline); ``package.module:factory`` (optionally with weights:
``.safetensors`` or a ``.pt`` state dict read with ``weights_only=True``); or a ``.pt``
file holding a pickled whole model, refused unless ``allow_pickle=True``
(:mod:`netgraph.sources.pickle_policy`).

DATA (:func:`load_data`): ``zoo:NAME``; a ``.npy`` / ``.npz`` / ``.pt`` tensor file with
optional integer class labels (:mod:`netgraph.sources.tensor_files`); a ``.txt`` file,
one sentence a line, for text models (encoded with :func:`netgraph.zoo.encode_sentences`).

:func:`check_model_spec` and :func:`check_data_spec` look at a spec without loading
anything heavy, so a caller can refuse a typo before minutes of loading or training.
Every problem is a :class:`~netgraph.errors.NetgraphError` whose one line says the fix.
"""

from netgraph.sources.data import Data, check_data_spec, default_data_spec, load_data
from netgraph.sources.models import ModelInfo, check_model_spec, load_model
from netgraph.sources.pickle_policy import read_weights
from netgraph.sources.tensor_files import read_tensor_file

__all__ = [
    "Data",
    "ModelInfo",
    "check_data_spec",
    "check_model_spec",
    "default_data_spec",
    "load_data",
    "load_model",
    "read_tensor_file",
    "read_weights",
]
