"""Tucker-2 and CP factorization of Conv2d kernels.

A kernel ``W`` of shape (O, C, kh, kw) is a 4-way tensor. **Tucker-2** decomposes only
the two channel modes (Kim et al., 2016): ``W ≈ G ×₀ U_out ×₁ U_in`` with a small core
``G`` of shape (r_out, r_in, kh, kw), which runs as three ordinary convolutions

    1×1 conv C → r_in (weight U_inᵀ)  →  kh×kw conv r_in → r_out (weight G)
    →  1×1 conv r_out → O (weight U_out, plus the original bias).

Factors come from HOSVD (leading singular vectors of the two unfoldings), optionally
refined by a few HOOI sweeps. With the input's channel second moment ``E[x xᵀ] = L Lᵀ``
the input mode is decomposed in whitened coordinates (``W ×₁ Lᵀ``) and unwhitened in
the first 1×1 conv, so the truncation discards what the data does not excite.

**CP** (Lebedev et al., 2015) writes ``W`` as a sum of R rank-one tensors, which runs as
1×1 conv C → R, depthwise kh×1, depthwise 1×kw, 1×1 conv R → O; fitted with
``tensorly.decomposition.parafac``.

Full ranks (r_in = C, r_out = O) reproduce the layer exactly.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from netgraph.errors import UnsupportedModelError

__all__ = [
    "tucker2_parameters",
    "cp_parameters",
    "tucker2_structure",
    "cp_structure",
    "tucker2_conv",
    "cp_conv",
    "channel_singular_values",
]


def _check_conv(conv: nn.Module, name: str) -> None:
    if not isinstance(conv, nn.Conv2d):
        raise UnsupportedModelError(f"Module {name!r} is a {type(conv).__name__}; Tucker/CP handle nn.Conv2d.")
    if conv.groups != 1:
        raise UnsupportedModelError(f"Conv2d {name!r} has groups={conv.groups}; only groups=1 is factorized.")


def tucker2_parameters(conv: nn.Conv2d, ranks: tuple[int, int]) -> int:
    """Weight count of the Tucker-2 replacement with ranks (r_in, r_out)."""
    r_in, r_out = ranks
    kh, kw = conv.kernel_size
    return conv.in_channels * r_in + r_in * r_out * kh * kw + r_out * conv.out_channels


def cp_parameters(conv: nn.Conv2d, rank: int) -> int:
    """Weight count of the CP replacement with rank R."""
    kh, kw = conv.kernel_size
    return rank * (conv.in_channels + kh + kw + conv.out_channels)


def tucker2_structure(conv: nn.Conv2d, ranks: tuple[int, int]) -> nn.Sequential:
    """An (untrained) Tucker-2 replacement of ``conv``: three plain convolutions."""
    r_in, r_out = ranks
    factory = {"device": conv.weight.device, "dtype": conv.weight.dtype}
    return nn.Sequential(
        nn.Conv2d(conv.in_channels, r_in, 1, bias=False, **factory),
        nn.Conv2d(
            r_in, r_out, conv.kernel_size, stride=conv.stride, padding=conv.padding,
            dilation=conv.dilation, bias=False, padding_mode=conv.padding_mode, **factory,
        ),
        nn.Conv2d(r_out, conv.out_channels, 1, bias=conv.bias is not None, **factory),
    )


def cp_structure(conv: nn.Conv2d, rank: int) -> nn.Sequential:
    """An (untrained) CP replacement of ``conv``: 1×1, depthwise kh×1, depthwise 1×kw, 1×1."""
    factory = {"device": conv.weight.device, "dtype": conv.weight.dtype}
    kh, kw = conv.kernel_size
    if isinstance(conv.padding, str):
        vertical_padding = horizontal_padding = conv.padding
    else:
        vertical_padding, horizontal_padding = (conv.padding[0], 0), (0, conv.padding[1])
    return nn.Sequential(
        nn.Conv2d(conv.in_channels, rank, 1, bias=False, **factory),
        nn.Conv2d(
            rank, rank, (kh, 1), stride=(conv.stride[0], 1), padding=vertical_padding,
            dilation=(conv.dilation[0], 1), groups=rank, bias=False, padding_mode=conv.padding_mode, **factory,
        ),
        nn.Conv2d(
            rank, rank, (1, kw), stride=(1, conv.stride[1]), padding=horizontal_padding,
            dilation=(1, conv.dilation[1]), groups=rank, bias=False, padding_mode=conv.padding_mode, **factory,
        ),
        nn.Conv2d(rank, conv.out_channels, 1, bias=conv.bias is not None, **factory),
    )


def _leading_vectors(matrix: np.ndarray, rank: int) -> np.ndarray:
    u, _, _ = np.linalg.svd(matrix, full_matrices=False)
    return u[:, :rank]


def _whitening(input_moment: np.ndarray | None, channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Cholesky factor L of the (ridged) second moment and its inverse."""
    if input_moment is None:
        eye = np.eye(channels)
        return eye, eye
    moment = np.asarray(input_moment, dtype=np.float64)
    ridge = 1e-6 * max(float(np.mean(np.diag(moment))), 1e-12)
    factor = np.linalg.cholesky(moment + ridge * np.eye(channels))
    return factor, np.linalg.inv(factor)


def channel_singular_values(
    conv: nn.Conv2d, input_moment: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Singular values of the input-mode and output-mode unfoldings (for rank choice)."""
    weight = conv.weight.detach().double().cpu().numpy()
    factor, _ = _whitening(input_moment, conv.in_channels)
    weight = np.einsum("ocij,cd->odij", weight, factor)
    out_channels, in_channels = weight.shape[:2]
    s_in = np.linalg.svd(weight.transpose(1, 0, 2, 3).reshape(in_channels, -1), compute_uv=False)
    s_out = np.linalg.svd(weight.reshape(out_channels, -1), compute_uv=False)
    return s_in, s_out


def tucker2_conv(
    conv: nn.Conv2d,
    ranks: tuple[int, int],
    *,
    input_moment: np.ndarray | None = None,
    hooi_iterations: int = 0,
    name: str = "",
) -> nn.Sequential:
    """Tucker-2 replacement of ``conv`` with HOSVD init and optional HOOI sweeps.

    Parameters
    ----------
    ranks : (r_in, r_out)
        Ranks of the input- and output-channel modes.
    input_moment : ndarray (C, C), optional
        ``E[x xᵀ]`` over the conv's input channels (all positions); enables the
        activation-aware (whitened) decomposition of the input mode.
    """
    _check_conv(conv, name)
    r_in, r_out = ranks
    weight = conv.weight.detach().double().cpu().numpy()
    out_channels, in_channels = weight.shape[:2]
    factor, inverse = _whitening(input_moment, in_channels)
    # W'[o, d] = sum_c W[o, c] L[c, d]: the kernel acting on whitened inputs
    whitened = np.einsum("ocij,cd->odij", weight, factor)

    def unfold_in(tensor: np.ndarray) -> np.ndarray:
        return tensor.transpose(1, 0, 2, 3).reshape(tensor.shape[1], -1)

    u_out = _leading_vectors(whitened.reshape(out_channels, -1), r_out)
    u_in = _leading_vectors(unfold_in(whitened), r_in)
    for _ in range(hooi_iterations):
        u_out = _leading_vectors(np.einsum("ocij,cr->orij", whitened, u_in).reshape(out_channels, -1), r_out)
        u_in = _leading_vectors(unfold_in(np.einsum("ocij,or->rcij", whitened, u_out)), r_in)
    core = np.einsum("ocij,or,cs->rsij", whitened, u_out, u_in)
    first = u_in.T @ inverse  # project raw inputs: U_inᵀ L⁻¹
    module = tucker2_structure(conv, (r_in, r_out))
    dtype = conv.weight.dtype
    with torch.no_grad():
        module[0].weight.copy_(torch.as_tensor(first[:, :, None, None], dtype=dtype))
        module[1].weight.copy_(torch.as_tensor(core, dtype=dtype))
        module[2].weight.copy_(torch.as_tensor(u_out[:, :, None, None], dtype=dtype))
        if conv.bias is not None:
            module[2].bias.copy_(conv.bias.detach())
    return module


def cp_conv(conv: nn.Conv2d, rank: int, *, random_state: int = 0, n_iter_max: int = 200, name: str = "") -> nn.Sequential:
    """CP replacement of ``conv`` fitted by alternating least squares (tensorly)."""
    _check_conv(conv, name)
    import tensorly
    from tensorly.decomposition import parafac

    weight = conv.weight.detach().double().cpu().numpy()
    with tensorly.backend_context("numpy"):
        # a tiny ridge keeps ALS solvable when the rank exceeds what the kernel needs
        ridge = 1e-12 * float(np.sum(weight**2))
        cp = parafac(
            weight, rank=rank, init="random", n_iter_max=n_iter_max, random_state=random_state, tol=1e-10, l2_reg=ridge
        )
    scale, (a_out, a_in, a_vertical, a_horizontal) = cp.weights, cp.factors
    module = cp_structure(conv, rank)
    dtype = conv.weight.dtype
    kh, kw = conv.kernel_size
    with torch.no_grad():
        module[0].weight.copy_(torch.as_tensor(a_in.T[:, :, None, None], dtype=dtype))
        module[1].weight.copy_(torch.as_tensor(a_vertical.T.reshape(rank, 1, kh, 1), dtype=dtype))
        module[2].weight.copy_(torch.as_tensor(a_horizontal.T.reshape(rank, 1, 1, kw), dtype=dtype))
        module[3].weight.copy_(torch.as_tensor((a_out * scale)[:, :, None, None], dtype=dtype))
        if conv.bias is not None:
            module[3].bias.copy_(conv.bias.detach())
    return module
