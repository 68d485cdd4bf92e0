"""Hidden size of pre-norm decoders: PCA rotation of the residual stream, then slicing.

Computational invariance (SliceGPT, Ashkboos et al. 2024): RMSNorm without its scale
commutes with any orthogonal ``Q`` (``‖xQ‖ = ‖x‖``). So after folding every norm's scale
into the layers that read its output, the whole residual stream can be expressed in a new
orthonormal basis: embeddings ``E ← E Q``, every reader ``W ← W Q`` (q/k/v, gate/up, the LM
head), every writer ``W ← Qᵀ W`` (o_proj, down_proj, and their biases), and the network
computes exactly the same function. With ``Q`` the principal directions of the stream on
calibration data (eigenvectors of the uncentred second moment, summed over every norm
input), keeping the first ``width`` columns drops the directions the data uses least.
One ``Q`` serves all layers here (SliceGPT uses one per layer plus a rotation on each
skip connection); the norms then see a ``width``-dimensional stream, so their weight
becomes ``sqrt(d / width)`` to keep the RMS scale.

Llama-family causal LMs (``LlamaForCausalLM``, ``Qwen2ForCausalLM``, ``MistralForCausalLM``)
are supported. Post-norm encoders (BERT) and LayerNorm models are refused: their norms
subtract a mean and sit on the residual path, where no rotation commutes with them.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np
import torch
from torch import nn

from netgraph.batches import call_model
from netgraph.errors import UnsupportedModelError
from netgraph.transformer.statistics import real_tokens

__all__ = ["stream_rotation", "rotate_and_slice"]


def _parts(model: nn.Module):
    base = getattr(model, "model", None)
    head = getattr(model, "lm_head", None)
    layers = getattr(base, "layers", None)
    if base is None or head is None or layers is None or not hasattr(base, "norm"):
        raise UnsupportedModelError(
            f"{type(model).__name__}: hidden-size slicing supports Llama-family causal LMs (model.layers, model.norm, "
            "lm_head) with RMSNorm; post-norm encoders such as BERT are not supported."
        )
    for layer in layers:
        if not all(hasattr(layer, name) for name in ("input_layernorm", "post_attention_layernorm", "self_attn", "mlp")):
            raise UnsupportedModelError(f"{type(layer).__name__} is not a pre-norm Llama-style block; cannot rotate its stream.")
        if hasattr(layer.input_layernorm, "bias") and layer.input_layernorm.bias is not None:
            raise UnsupportedModelError("LayerNorm with a bias subtracts a mean; only RMSNorm blocks can be rotated.")
    return base, head, layers


def stream_rotation(model: nn.Module, batches: Iterable[Any]) -> tuple[np.ndarray, np.ndarray]:
    """``(Q, eigenvalues)``: principal directions of the residual stream, most used first."""
    base, _, layers = _parts(model)
    norms = [module for layer in layers for module in (layer.input_layernorm, layer.post_attention_layernorm)] + [base.norm]
    width = base.norm.weight.shape[0]
    gram = torch.zeros(width, width, dtype=torch.float64)
    current: dict[str, Any] = {}

    def hook(_module, inputs):
        rows = real_tokens(current["batch"], inputs[0]).to(torch.float64)
        gram.addmm_(rows.T, rows)

    handles = [norm.register_forward_pre_hook(hook) for norm in norms]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for batch in batches:
                current["batch"] = batch
                call_model(model, batch)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    values, vectors = np.linalg.eigh(gram.numpy())
    order = np.argsort(values)[::-1]
    return vectors[:, order], values[order]


def _linear_in(module: nn.Linear, matrix: torch.Tensor) -> None:
    """Reader: ``W ← W M`` (M is d × width)."""
    weight = module.weight.data.to(torch.float64) @ matrix
    module.weight = nn.Parameter(weight.to(module.weight.dtype).contiguous())
    module.in_features = weight.shape[1]


def _linear_out(module: nn.Linear, matrix: torch.Tensor) -> None:
    """Writer: ``W ← Mᵀ W``, ``b ← b M``."""
    weight = matrix.T @ module.weight.data.to(torch.float64)
    module.weight = nn.Parameter(weight.to(module.weight.dtype).contiguous())
    if module.bias is not None:
        module.bias = nn.Parameter((module.bias.data.to(torch.float64) @ matrix).to(module.bias.dtype))
    module.out_features = weight.shape[0]


def rotate_and_slice(model: nn.Module, rotation: np.ndarray, width: int | None = None) -> nn.Module:
    """Rotate the residual stream by ``rotation`` and keep its first ``width`` directions, in place.

    With ``width=None`` (all directions) the model's function is unchanged up to rounding.
    ``config.hidden_size`` follows (``head_dim`` is pinned so attention keeps its shape).

    Examples
    --------
    >>> import torch
    >>> from transformers import LlamaConfig, LlamaForCausalLM
    >>> model = LlamaForCausalLM(LlamaConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
    ...                                      intermediate_size=48, vocab_size=50)).eval()
    >>> batches = [{"input_ids": torch.randint(0, 50, (2, 8))}]
    >>> rotation, _ = stream_rotation(model, batches)
    >>> rotate_and_slice(model, rotation, 24).config.hidden_size
    24
    """
    base, head, layers = _parts(model)
    full = rotation.shape[0]
    width = full if width is None else int(width)
    if not 1 <= width <= full:
        raise UnsupportedModelError(f"width must be in [1, {full}]; got {width}.")
    matrix = torch.from_numpy(np.ascontiguousarray(rotation[:, :width])).to(torch.float64)
    scale = math.sqrt(full / width)
    tied = getattr(model.config, "tie_word_embeddings", False) and head.weight is base.embed_tokens.weight
    if tied:
        # A rotated embedding can no longer serve as the (norm-scaled) output matrix.
        head.weight = nn.Parameter(head.weight.data.clone())
        model.config.tie_word_embeddings = False

    def fold_norm(norm: nn.Module, readers: list[nn.Linear]) -> None:
        gain = norm.weight.data.to(torch.float64)
        for reader in readers:
            reader.weight.data = (reader.weight.data.to(torch.float64) * gain[None, :]).to(reader.weight.dtype)
            _linear_in(reader, matrix)
        norm.weight = nn.Parameter(torch.full((width,), scale, dtype=norm.weight.dtype))
        if hasattr(norm, "hidden_size"):
            norm.hidden_size = width

    embedding = base.embed_tokens
    rotated = (embedding.weight.data.to(torch.float64) @ matrix).to(embedding.weight.dtype)
    embedding.weight = nn.Parameter(rotated.contiguous())
    embedding.embedding_dim = width
    for layer in layers:
        attention, mlp = layer.self_attn, layer.mlp
        fold_norm(layer.input_layernorm, [attention.q_proj, attention.k_proj, attention.v_proj])
        _linear_out(attention.o_proj, matrix)
        fold_norm(layer.post_attention_layernorm, [mlp.gate_proj, mlp.up_proj])
        _linear_out(mlp.down_proj, matrix)
        if hasattr(layer, "hidden_size"):
            layer.hidden_size = width
    fold_norm(base.norm, [head])
    config = model.config
    config.head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    config.hidden_size = width
    return model
