/**
 * What goes beside an exported encoder (`looktwice model export`): `<name>.json`, the model card
 * (architecture, input size, stem, padding, pixel normalisation, preprocessing, output), the
 * same card inside the safetensors header (`__metadata__.looktwice`, so the weights file alone
 * is enough to import it back), `<name>.README.md` with the one-line loads, and
 * `looktwice_resnet.py`, a self-contained PyTorch module (numpy + torch only, no safetensors
 * package) that rebuilds the encoder exactly — including TensorFlow-style 'same' padding, which
 * torchvision's ResNet does not have — and is what the PyTorch round-trip test loads.
 */
import type { EncoderStructure } from './torchvision-resnet.ts';

/** The model card of an exported encoder (JSON beside the weights and in their header). */
export interface ModelCard {
  tool: 'looktwice';
  card_version: 1;
  format: 'torchvision-resnet-state-dict';
  arch: string;
  block: 'basic';
  widths: number[];
  blocks: number[];
  input_channels: number;
  /** Square input side in pixels. */
  input_size: number;
  stem: 'cifar' | 'imagenet';
  /** 'same' = TensorFlow's (pads bottom/right on stride 2, even sizes); 'symmetric' = PyTorch's. */
  padding: 'same' | 'symmetric';
  /** x = (pixel / 255 − mean) / std per RGB channel. */
  normalisation: { mean: number[]; std: number[] };
  preprocessing: string;
  output: { dim: number; description: string };
  source: { run_id: number; steps_done: number; exported_at: string };
}

/** Looktwice's own normalisation, p/255 − 0.5, as mean/std. */
export const LOOKTWICE_NORMALISATION = { mean: [0.5, 0.5, 0.5], std: [1, 1, 1] };
/** torchvision's (and Lightly's) ImageNet statistics. */
export const IMAGENET_NORMALISATION = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** The card for an encoder of `structure`. */
export function modelCard(structure: EncoderStructure, options: { arch: string; sizePx: number; padding: 'same' | 'symmetric'; normalisation: { mean: number[]; std: number[] }; runId: number; stepsDone: number }): ModelCard {
  return {
    tool: 'looktwice',
    card_version: 1,
    format: 'torchvision-resnet-state-dict',
    arch: options.arch,
    block: 'basic',
    widths: structure.widths,
    blocks: structure.blocks,
    input_channels: structure.inputChannels,
    input_size: options.sizePx,
    stem: structure.stem,
    padding: options.padding,
    normalisation: options.normalisation,
    preprocessing: `RGB; short side resized to ${options.sizePx} px (Lanczos), centre square crop; EXIF orientation applied`,
    output: { dim: structure.widths[structure.widths.length - 1]!, description: 'h = global average pool of the last stage (no fc); Looktwice L2-normalises h and compares by cosine' },
    source: { run_id: options.runId, steps_done: options.stepsDone, exported_at: new Date().toISOString() },
  };
}

/** Reads a card back from a safetensors header's metadata, or null when it has none. */
export function cardFromMetadata(metadata: Record<string, string>): ModelCard | null {
  if (typeof metadata.looktwice !== 'string') return null;
  try {
    const card = JSON.parse(metadata.looktwice) as ModelCard;
    return card.tool === 'looktwice' ? card : null;
  } catch {
    return null;
  }
}

/** The README beside the weights: what the file is and how to load it. */
export function modelReadme(card: ModelCard, weightsName: string): string {
  const cardName = weightsName.replace(/\.safetensors$/, '') + '.json';
  const torchvisionLine =
    card.arch === 'resnet18'
      ? `m = torchvision.models.resnet18(); m.fc = torch.nn.Identity()${card.stem === 'cifar' ? '; m.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False); m.maxpool = torch.nn.Identity()' : ''}; m.load_state_dict(load_file("${weightsName}"))`
      : null;
  return `# ${weightsName}: a ResNet encoder trained with Looktwice (SimCLR)

- Architecture: ${card.arch}, basic blocks, widths ${card.widths.join('-')}, blocks per stage ${card.blocks.join('-')}
- Stem: ${card.stem === 'cifar' ? '3×3 convolution, stride 1, no max-pool (CIFAR stem, for small inputs)' : '7×7 convolution, stride 2, then 3×3 max-pool, stride 2 (ImageNet stem)'}
- Input: ${card.input_channels} channels (RGB), ${card.input_size} × ${card.input_size} px; ${card.preprocessing}
- Normalisation: x = (pixel / 255 − mean) / std, mean ${JSON.stringify(card.normalisation.mean)}, std ${JSON.stringify(card.normalisation.std)}
- Padding: ${card.padding === 'same' ? "TensorFlow's 'same': a stride-2 layer on an even-sized input pads one pixel at the bottom/right only (PyTorch pads every side)" : "PyTorch's (k // 2 on every side)"}
- Output: ${card.output.dim}-d h (${card.output.description})
- Tensors: torchvision ResNet names and layouts (\`conv1.weight\` [out, in, kh, kw], \`bn1.running_mean\`, \`layer1.0.conv1.weight\`, \`layer2.0.downsample.0.weight\`, …), float32, no \`fc\`
- The card: \`${cardName}\` (also in the file's safetensors metadata, key \`looktwice\`)

## Load in PyTorch (exactly Looktwice's embeddings)

\`looktwice_resnet.py\` beside this file needs only torch and numpy:

\`\`\`python
from looktwice_resnet import load_encoder; model = load_encoder("${weightsName}")  # eval mode; model(x) → h
\`\`\`

\`x\` is a float tensor [B, 3, ${card.input_size}, ${card.input_size}] normalised as above (\`looktwice_resnet.preprocess(uint8 [B, H, W, 3])\` does it).
${
  torchvisionLine
    ? `
## Load into torchvision's resnet18 (for fine-tuning)

\`\`\`python
import torch, torchvision; from safetensors.torch import load_file
${torchvisionLine}
\`\`\`

${card.padding === 'same' ? "torchvision pads symmetrically, so its embeddings are close to Looktwice's but not identical; use looktwice_resnet.py for identical ones." : ''}
`
    : `
torchvision's ResNet classes have fixed widths (64-128-256-512), so this ${card.widths.join('-')} encoder loads with looktwice_resnet.py.
`
}
## Back into Looktwice

\`\`\`
looktwice model import ${weightsName}
\`\`\`
`;
}

/** looktwice_resnet.py: the encoder in PyTorch, built from the card, loading the weights strictly. */
export const PYTORCH_MODULE = `"""Looktwice's ResNet encoder in PyTorch (written by \`looktwice model export\`).

    from looktwice_resnet import load_encoder, preprocess
    model = load_encoder("encoder.safetensors")   # reads encoder.json (or the file's metadata)
    h = model(preprocess(pixels, model.card))     # pixels: uint8 [B, S, S, 3] -> h: [B, D]

Needs torch and numpy only (the safetensors file is read here). Padding follows the card:
'same' is TensorFlow's (a stride-2 layer on an even size pads bottom/right only), which is how
Looktwice trains, so the embeddings equal Looktwice's; 'symmetric' is PyTorch's.
"""
import json
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

_DTYPES = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8", "I32": "<i4"}


def read_safetensors(path):
    """{name: tensor}, metadata of a safetensors file."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=np.dtype(_DTYPES[entry["dtype"]])).reshape(entry["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors, header.get("__metadata__", {})


def _same_pad(x, k, s, value=0.0):
    h, w = x.shape[-2:]
    ph = max((-(-h // s) - 1) * s + k - h, 0)
    pw = max((-(-w // s) - 1) * s + k - w, 0)
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), value=value)


class Conv2d(nn.Conv2d):
    def __init__(self, cin, cout, k, s, padding):
        super().__init__(cin, cout, k, s, padding=k // 2 if padding == "symmetric" else 0, bias=False)
        self.same = padding == "same"

    def forward(self, x):
        if self.same:
            x = _same_pad(x, self.kernel_size[0], self.stride[0])
        return super().forward(x)


class MaxPool(nn.Module):
    def __init__(self, padding):
        super().__init__()
        self.same = padding == "same"

    def forward(self, x):
        if self.same:
            return F.max_pool2d(_same_pad(x, 3, 2, float("-inf")), 3, 2)
        return F.max_pool2d(x, 3, 2, 1)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, padding):
        super().__init__()
        self.conv1 = Conv2d(cin, cout, 3, stride, padding)
        self.bn1 = nn.BatchNorm2d(cout, eps=1e-5)
        self.conv2 = Conv2d(cout, cout, 3, 1, padding)
        self.bn2 = nn.BatchNorm2d(cout, eps=1e-5)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(Conv2d(cin, cout, 1, stride, padding), nn.BatchNorm2d(cout, eps=1e-5))

    def forward(self, x):
        residual = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + residual)


class LooktwiceResNet(nn.Module):
    def __init__(self, card):
        super().__init__()
        self.card = card
        padding = card["padding"]
        widths, blocks = card["widths"], card["blocks"]
        cifar = card["stem"] == "cifar"
        self.conv1 = Conv2d(card["input_channels"], widths[0], 3 if cifar else 7, 1 if cifar else 2, padding)
        self.bn1 = nn.BatchNorm2d(widths[0], eps=1e-5)
        self.maxpool = nn.Identity() if cifar else MaxPool(padding)
        channels = widths[0]
        for s, (width, count) in enumerate(zip(widths, blocks)):
            stage = []
            for b in range(count):
                stage.append(BasicBlock(channels, width, 2 if b == 0 and s > 0 else 1, padding))
                channels = width
            setattr(self, f"layer{s + 1}", nn.Sequential(*stage))
        self.stages = len(widths)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        for s in range(self.stages):
            x = getattr(self, f"layer{s + 1}")(x)
        return x.mean(dim=(2, 3))


def preprocess(pixels, card):
    """uint8 [B, S, S, 3] (numpy or torch) -> normalised float32 [B, 3, S, S]."""
    x = torch.as_tensor(np.asarray(pixels)).float() / 255.0
    mean = torch.tensor(card["normalisation"]["mean"], dtype=torch.float32)
    std = torch.tensor(card["normalisation"]["std"], dtype=torch.float32)
    return ((x - mean) / std).permute(0, 3, 1, 2).contiguous()


def load_encoder(path, card=None):
    """The encoder of a \`looktwice model export\` file, weights loaded strictly, in eval mode."""
    tensors, metadata = read_safetensors(path)
    if card is None:
        sidecar = os.path.splitext(path)[0] + ".json"
        card = json.load(open(sidecar)) if os.path.exists(sidecar) else json.loads(metadata["looktwice"])
    model = LooktwiceResNet(card)
    model.load_state_dict(tensors, strict=True)
    return model.eval()
`;
