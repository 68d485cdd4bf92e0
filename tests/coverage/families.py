"""Small random-initialised builds of the architecture families people bring.

torchvision and timm cannot be imported here (the package mirror's torchvision is a CUDA
build whose operators do not load with the CPU torch), so each family is rebuilt from its
public definition at toy width: the same layer kinds and the same wiring (residual adds,
concatenation, depthwise and grouped convolutions, squeeze-excite, Flatten, fused qkv,
grouped-query attention, channel shuffle), which is what reduction has to cope with.
Hugging Face families are built from their configs (no download).
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["FAMILIES", "build"]


def _conv_bn(cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class _Head(nn.Sequential):
    def __init__(self, channels: int, classes: int = 10):
        super().__init__(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, classes))


# --- ResNet (He et al. 2016) -------------------------------------------------------------
class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = _conv_bn(cin, cout, 3, stride)
        self.conv2 = _conv_bn(cout, cout, 3, act=False)
        self.down = _conv_bn(cin, cout, 1, stride, act=False) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x):
        return F.relu(self.conv2(self.conv1(x)) + self.down(x))


class Bottleneck(nn.Module):
    def __init__(self, cin: int, width: int, cout: int, stride: int = 1, groups: int = 1):
        super().__init__()
        self.conv1 = _conv_bn(cin, width, 1)
        self.conv2 = _conv_bn(width, width, 3, stride, groups=groups)
        self.conv3 = _conv_bn(width, cout, 1, act=False)
        self.down = _conv_bn(cin, cout, 1, stride, act=False) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x):
        return F.relu(self.conv3(self.conv2(self.conv1(x))) + self.down(x))


def resnet_basic():
    return nn.Sequential(_conv_bn(3, 16), BasicBlock(16, 16), BasicBlock(16, 32, 2), _Head(32))


def resnet_bottleneck():
    return nn.Sequential(_conv_bn(3, 16), Bottleneck(16, 8, 32), Bottleneck(32, 16, 64, 2), _Head(64))


def resnext():
    """ResNeXt / RegNet: bottlenecks whose 3×3 convolution is grouped."""
    return nn.Sequential(_conv_bn(3, 16), Bottleneck(16, 16, 32, groups=4), Bottleneck(32, 32, 64, 2, groups=8), _Head(64))


# --- DenseNet (Huang et al. 2017): every layer reads the concatenation of all before ------
class DenseLayer(nn.Module):
    def __init__(self, cin: int, growth: int):
        super().__init__()
        self.norm1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, 2 * growth, 1, bias=False)
        self.norm2, self.conv2 = nn.BatchNorm2d(2 * growth), nn.Conv2d(2 * growth, growth, 3, padding=1, bias=False)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        x = torch.cat(features, 1)
        return self.conv2(F.relu(self.norm2(self.conv1(F.relu(self.norm1(x))))))


class DenseBlock(nn.Module):
    def __init__(self, cin: int, growth: int, n_layers: int):
        super().__init__()
        self.layers = nn.ModuleList(DenseLayer(cin + i * growth, growth) for i in range(n_layers))

    def forward(self, x):
        features = [x]
        for layer in self.layers:
            features.append(layer(features))
        return torch.cat(features, 1)


def densenet():
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1, bias=False), DenseBlock(16, 8, 3),
        nn.BatchNorm2d(40), nn.ReLU(), nn.Conv2d(40, 20, 1, bias=False), nn.AvgPool2d(2),
        DenseBlock(20, 8, 2), nn.BatchNorm2d(36), nn.ReLU(), _Head(36),
    )


# --- SqueezeNet Fire (Iandola et al. 2016) -----------------------------------------------
class Fire(nn.Module):
    def __init__(self, cin: int, squeeze: int, expand: int):
        super().__init__()
        self.squeeze = nn.Conv2d(cin, squeeze, 1)
        self.expand1x1 = nn.Conv2d(squeeze, expand, 1)
        self.expand3x3 = nn.Conv2d(squeeze, expand, 3, padding=1)

    def forward(self, x):
        x = F.relu(self.squeeze(x))
        return torch.cat([F.relu(self.expand1x1(x)), F.relu(self.expand3x3(x))], 1)


def squeezenet():
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), Fire(16, 8, 16), Fire(32, 8, 16), nn.MaxPool2d(2),
        nn.Conv2d(32, 10, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    )


# --- Inception / GoogLeNet branches (Szegedy et al. 2015) --------------------------------
class Inception(nn.Module):
    def __init__(self, cin: int, b1: int, b3: int, b5: int, pool: int):
        super().__init__()
        self.branch1 = _conv_bn(cin, b1, 1)
        self.branch3 = nn.Sequential(_conv_bn(cin, b3 // 2, 1), _conv_bn(b3 // 2, b3, 3))
        self.branch5 = nn.Sequential(_conv_bn(cin, b5 // 2, 1), _conv_bn(b5 // 2, b5, 3), _conv_bn(b5, b5, 3))
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, 1, 1), _conv_bn(cin, pool, 1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(x)], 1)


def inception():
    return nn.Sequential(_conv_bn(3, 16), Inception(16, 8, 16, 8, 8), Inception(40, 8, 16, 8, 8), _Head(40))


# --- MobileNetV2 inverted residual (Sandler et al. 2018) ---------------------------------
class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        self.conv = nn.Sequential(
            nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(),
            nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout),
        )

    def forward(self, x):
        return x + self.conv(x) if self.use_residual else self.conv(x)


def mobilenetv2():
    return nn.Sequential(
        _conv_bn(3, 16), InvertedResidual(16, 16, 1, 4), InvertedResidual(16, 24, 2, 4),
        InvertedResidual(24, 24, 1, 4), _Head(24),
    )


# --- EfficientNet MBConv with squeeze-excite (Tan & Le 2019) -----------------------------
class SqueezeExcite(nn.Module):
    def __init__(self, channels: int, reduced: int):
        super().__init__()
        self.reduce, self.expand = nn.Conv2d(channels, reduced, 1), nn.Conv2d(reduced, channels, 1)

    def forward(self, x):
        scale = torch.sigmoid(self.expand(F.silu(self.reduce(x.mean((2, 3), keepdim=True)))))
        return x * scale


class MBConv(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        self.expand = nn.Sequential(nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.SiLU())
        self.depthwise = nn.Sequential(
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden), nn.SiLU()
        )
        self.se = SqueezeExcite(hidden, max(1, cin // 4))
        self.project = nn.Sequential(nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.project(self.se(self.depthwise(self.expand(x))))
        return x + y if self.use_residual else y


def efficientnet():
    return nn.Sequential(_conv_bn(3, 16), MBConv(16, 16, 1, 4), MBConv(16, 24, 2, 4), MBConv(24, 24, 1, 4), _Head(24))


# --- ConvNeXt block (Liu et al. 2022) ----------------------------------------------------
class ConvNeXtBlock(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim)
        self.pwconv1, self.pwconv2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), 1e-1))

    def forward(self, x):
        y = self.norm(self.dwconv(x).permute(0, 2, 3, 1))
        y = self.pwconv2(F.gelu(self.pwconv1(y))) * self.gamma
        return x + y.permute(0, 3, 1, 2)


def convnext():
    return nn.Sequential(nn.Conv2d(3, 16, 4, 4), ConvNeXtBlock(16), ConvNeXtBlock(16), _Head(16))


# --- VGG with Flatten (Simonyan & Zisserman 2015) ----------------------------------------
def vgg():
    return nn.Sequential(
        _conv_bn(3, 16), nn.MaxPool2d(2), _conv_bn(16, 32), nn.MaxPool2d(2), _conv_bn(32, 32), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Dropout(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10),
    )


def vgg11_bn_full(classes: int = 1000) -> nn.Sequential:
    """torchvision's VGG-11-BN at full size (133 M parameters): its Flatten consumer reads
    512·7·7 = 25,088 inputs. Not in FAMILIES (too big for the test suite); the coverage
    benchmark runs it with ``--large``."""
    layers: list[nn.Module] = []
    channels = 3
    for width in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"):
        if width == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
            channels = width
    return nn.Sequential(
        *layers, nn.AdaptiveAvgPool2d(7), nn.Flatten(),
        nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(),
        nn.Linear(4096, classes),
    )


# --- ViT / DeiT block with timm's fused qkv (Dosovitskiy et al. 2021) --------------------
class FusedAttention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        y = F.scaled_dot_product_attention(q, k, v)
        return self.proj(y.transpose(1, 2).reshape(b, n, c))


class TransformerBlock(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim), FusedAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self, dim: int = 32, depth: int = 2, heads: int = 4, patch: int = 8):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.blocks = nn.Sequential(*(TransformerBlock(dim, heads) for _ in range(depth)))
        self.norm, self.head = nn.LayerNorm(dim), nn.Linear(dim, 10)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1)
        return self.head(self.norm(self.blocks(x))[:, 0])


# --- PyTorch's own nn.MultiheadAttention (packed in-projection) --------------------------
class MHABlock(nn.Module):
    def __init__(self, dim: int = 32, heads: int = 4):
        super().__init__()
        self.embed = nn.Linear(12, dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(dim, 64), nn.ReLU(), nn.Linear(64, dim))
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        x = self.embed(x)
        x = x + self.attn(x, x, x, need_weights=False)[0]
        return self.head((x + self.mlp(x)).mean(1))


# --- MLP-Mixer (Tolstikhin et al. 2021) --------------------------------------------------
class MixerBlock(nn.Module):
    def __init__(self, tokens: int, dim: int):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.token_mlp = nn.Sequential(nn.Linear(tokens, 2 * tokens), nn.GELU(), nn.Linear(2 * tokens, tokens))
        self.channel_mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        x = x + self.token_mlp(self.norm1(x).transpose(1, 2)).transpose(1, 2)
        return x + self.channel_mlp(self.norm2(x))


class Mixer(nn.Module):
    def __init__(self, dim: int = 32, patch: int = 8):
        super().__init__()
        self.stem = nn.Conv2d(3, dim, patch, patch)
        self.blocks = nn.Sequential(MixerBlock(16, dim), MixerBlock(16, dim))
        self.norm, self.head = nn.LayerNorm(dim), nn.Linear(dim, 10)

    def forward(self, x):
        x = self.stem(x).flatten(2).transpose(1, 2)
        return self.head(self.norm(self.blocks(x)).mean(1))


# --- ShuffleNetV2 unit with channel shuffle (Ma et al. 2018) -----------------------------
def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    b, c, h, w = x.shape
    return x.view(b, groups, c // groups, h, w).transpose(1, 2).reshape(b, c, h, w)


class ShuffleUnit(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        half = channels // 2
        self.branch = nn.Sequential(
            _conv_bn(half, half, 1), _conv_bn(half, half, 3, groups=half, act=False), _conv_bn(half, half, 1)
        )

    def forward(self, x):
        a, b = x.chunk(2, dim=1)
        return channel_shuffle(torch.cat([a, self.branch(b)], 1), 2)


def shufflenetv2():
    return nn.Sequential(_conv_bn(3, 16), ShuffleUnit(16), ShuffleUnit(16), _Head(16))


def conv1d_net():
    return nn.Sequential(
        nn.Conv1d(4, 16, 3, padding=1), nn.ReLU(), nn.Conv1d(16, 16, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(16, 5),
    )


def conv3d_net():
    return nn.Sequential(
        nn.Conv3d(2, 8, 3, padding=1), nn.ReLU(), nn.Conv3d(8, 8, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(8, 5),
    )


# --- Hugging Face families from their configs (no download) ------------------------------
class HFClassifier(nn.Module):
    """Wrap a Hugging Face model so forward(input_ids) returns one tensor."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        return self.model(input_ids=input_ids).logits


def _hf(kind: str) -> nn.Module:
    import transformers as hf

    small = dict(vocab_size=64)
    if kind == "gpt2":
        config = hf.GPT2Config(n_embd=32, n_layer=2, n_head=4, n_positions=32, **small)
        model = hf.GPT2LMHeadModel(config)
    elif kind == "bert":
        config = hf.BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                               max_position_embeddings=32, num_labels=3, **small)
        model = hf.BertForSequenceClassification(config)
    elif kind == "llama":
        config = hf.LlamaConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                intermediate_size=64, max_position_embeddings=32, **small)
        model = hf.LlamaForCausalLM(config)
    elif kind == "qwen2":
        config = hf.Qwen2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1,
                                intermediate_size=64, max_position_embeddings=32, **small)
        model = hf.Qwen2ForCausalLM(config)
    else:  # pragma: no cover - programming error in the table below
        raise ValueError(kind)
    return HFClassifier(model.eval())


def _images(batch: int = 4, size: int = 32, generator: torch.Generator | None = None) -> torch.Tensor:
    return torch.randn(batch, 3, size, size, generator=generator)


def _tokens(batch: int = 4, length: int = 12, generator: torch.Generator | None = None) -> torch.Tensor:
    return torch.randint(0, 64, (batch, length), generator=generator)


_IMAGE = "image"
# name -> (builder, input kind)
FAMILIES: dict[str, tuple[Callable[[], nn.Module], str]] = {
    "resnet_basic": (resnet_basic, _IMAGE),
    "resnet_bottleneck": (resnet_bottleneck, _IMAGE),
    "resnext": (resnext, _IMAGE),
    "densenet": (densenet, _IMAGE),
    "squeezenet": (squeezenet, _IMAGE),
    "inception": (inception, _IMAGE),
    "mobilenetv2": (mobilenetv2, _IMAGE),
    "efficientnet": (efficientnet, _IMAGE),
    "convnext": (convnext, _IMAGE),
    "vgg": (vgg, _IMAGE),
    "vit": (ViT, _IMAGE),
    "mixer": (Mixer, _IMAGE),
    "shufflenetv2": (shufflenetv2, _IMAGE),
    "multihead_attention": (MHABlock, "sequence"),
    "conv1d": (conv1d_net, "signal"),
    "conv3d": (conv3d_net, "volume"),
    "gpt2": (lambda: _hf("gpt2"), "tokens"),
    "bert": (lambda: _hf("bert"), "tokens"),
    "llama_gqa": (lambda: _hf("llama"), "tokens"),
    "qwen2_gqa": (lambda: _hf("qwen2"), "tokens"),
}


def inputs(kind: str, batch: int = 4, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    if kind == _IMAGE:
        return _images(batch, generator=generator)
    if kind == "tokens":
        return _tokens(batch, generator=generator)
    if kind == "sequence":
        return torch.randn(batch, 10, 12, generator=generator)
    if kind == "signal":
        return torch.randn(batch, 4, 20, generator=generator)
    if kind == "volume":
        return torch.randn(batch, 2, 8, 8, 8, generator=generator)
    raise ValueError(kind)


def build(name: str, seed: int = 0) -> tuple[nn.Module, str]:
    """A random-initialised model of family ``name`` (eval mode) and its input kind."""
    builder, kind = FAMILIES[name]
    torch.manual_seed(seed)
    model = builder().eval()
    # BatchNorm statistics as after training, so channels differ in scale and mean.
    generator = torch.Generator().manual_seed(seed + 1)
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.running_mean.copy_(torch.randn(module.num_features, generator=generator) * 0.1)
            module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
    return model, kind
