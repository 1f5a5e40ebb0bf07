/**
 * Looktwice's ResNet encoder (core/ml/resnet.ts) in the names and layouts of a torchvision
 * ResNet state dict, both ways. torchvision's names: `conv1.weight` [O, I, kh, kw], `bn1.weight`
 * (γ), `bn1.bias` (β), `bn1.running_mean`, `bn1.running_var`, `bn1.num_batches_tracked`; per
 * block `layer<s>.<b>.conv1/bn1/conv2/bn2` and, where the block changes resolution or width,
 * `layer<s>.<b>.downsample.0` (1×1 conv) and `.downsample.1` (its batch norm). Looktwice's:
 * `encoder/stem/conv/filter` [kh, kw, I, O], `…/bn/{scale,offset,moving_mean,moving_variance}`,
 * `encoder/stage<s>/block<b>/{conv1,bn1,conv2,bn2}` and `…/shortcut/{conv,bn}`.
 *
 * Layouts accepted on import (a state dict converted to safetensors):
 *   - torchvision's own (`torchvision.models.resnet18().state_dict()`), `fc.*` ignored;
 *   - the same under a prefix: `module.` (DataParallel/DDP), `backbone.`, `encoder.`, `model.`,
 *     `_orig_mod.` (torch.compile), in any combination;
 *   - Lightly's `backbone = nn.Sequential(*list(resnet.children())[:-1])`: `backbone.0` = conv1,
 *     `backbone.1` = bn1, the numbered children holding blocks = layer1…layer4 in order;
 *   - `shortcut.0/1` (Lightly's ResNetGenerator, CIFAR code) for `downsample.0/1`.
 * Other tensors (a projection head, a momentum encoder, fc) are ignored and listed.
 * Basic-block ResNets only (ResNet-18/34 and narrower ones such as resnet-small); a bottleneck
 * (ResNet-50) file is refused with that reason.
 */
import type { CheckpointTensor } from '../ml/checkpoint.ts';
import type { NamedTensor, TensorToWrite } from './safetensors.ts';

/** The shape of a basic-block ResNet encoder, as both layouts imply it. */
export interface EncoderStructure {
  /** 'cifar': 3×3 stride-1 conv, no max-pool; 'imagenet': 7×7 stride-2 conv + 3×3/2 max-pool. */
  stem: 'cifar' | 'imagenet';
  inputChannels: number;
  /** Channels per stage. */
  widths: number[];
  /** Basic blocks per stage. */
  blocks: number[];
}

/** One tensor in both namings, with the Looktwice layout's shape. */
interface Pair {
  looktwice: string;
  torch: string;
  /** Looktwice's shape: [kh, kw, I, O] for a conv, [C] otherwise. */
  shape: number[];
  conv: boolean;
}

/** Every tensor of `structure`, Looktwice name ↔ torchvision name. */
function pairs(structure: EncoderStructure): Pair[] {
  const out: Pair[] = [];
  const conv = (looktwice: string, torch: string, k: number, input: number, output: number) => out.push({ looktwice: `${looktwice}/filter`, torch: `${torch}.weight`, shape: [k, k, input, output], conv: true });
  const bn = (looktwice: string, torch: string, channels: number) => {
    for (const [l, t] of [['scale', 'weight'], ['offset', 'bias'], ['moving_mean', 'running_mean'], ['moving_variance', 'running_var']] as const) {
      out.push({ looktwice: `${looktwice}/${l}`, torch: `${torch}.${t}`, shape: [channels], conv: false });
    }
  };
  const first = structure.widths[0]!;
  conv('encoder/stem/conv', 'conv1', structure.stem === 'cifar' ? 3 : 7, structure.inputChannels, first);
  bn('encoder/stem/bn', 'bn1', first);
  let channels = first;
  structure.widths.forEach((width, s) => {
    for (let b = 0; b < structure.blocks[s]!; b++) {
      const l = `encoder/stage${s + 1}/block${b + 1}`;
      const t = `layer${s + 1}.${b}`;
      const stride = b === 0 && s > 0 ? 2 : 1;
      conv(`${l}/conv1`, `${t}.conv1`, 3, channels, width);
      bn(`${l}/bn1`, `${t}.bn1`, width);
      conv(`${l}/conv2`, `${t}.conv2`, 3, width, width);
      bn(`${l}/bn2`, `${t}.bn2`, width);
      if (stride !== 1 || channels !== width) {
        conv(`${l}/shortcut/conv`, `${t}.downsample.0`, 1, channels, width);
        bn(`${l}/shortcut/bn`, `${t}.downsample.1`, width);
      }
      channels = width;
    }
  });
  return out;
}

/** [kh, kw, I, O] (tfjs) → [O, I, kh, kw] (PyTorch). */
export function filterToTorch(values: ArrayLike<number>, [kh, kw, input, output]: number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let y = 0; y < kh!; y++)
    for (let x = 0; x < kw!; x++)
      for (let i = 0; i < input!; i++)
        for (let o = 0; o < output!; o++) out[((o * input! + i) * kh! + y) * kw! + x] = values[((y * kw! + x) * input! + i) * output! + o]!;
  return out;
}

/** [O, I, kh, kw] (PyTorch) → [kh, kw, I, O] (tfjs). */
export function filterFromTorch(values: ArrayLike<number>, [output, input, kh, kw]: number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let o = 0; o < output!; o++)
    for (let i = 0; i < input!; i++)
      for (let y = 0; y < kh!; y++)
        for (let x = 0; x < kw!; x++) out[((y * kw! + x) * input! + i) * output! + o] = values[((o * input! + i) * kh! + y) * kw! + x]!;
  return out;
}

/** The structure of the encoder saved in a Looktwice checkpoint (from its tensor names and shapes). */
export function structureOfCheckpoint(tensors: ReadonlyMap<string, CheckpointTensor>): EncoderStructure {
  const stem = tensors.get('encoder/stem/conv/filter');
  if (!stem) throw new Error('the checkpoint has no encoder (encoder/stem/conv/filter is missing)');
  const blocks: number[] = [];
  const widths: number[] = [];
  for (const name of tensors.keys()) {
    const match = /^encoder\/stage(\d+)\/block(\d+)\/conv2\/filter$/.exec(name);
    if (!match) continue;
    const s = Number(match[1]) - 1;
    blocks[s] = Math.max(blocks[s] ?? 0, Number(match[2]));
    widths[s] = tensors.get(name)!.shape[3]!;
  }
  if (blocks.length === 0 || blocks.some((b) => b === undefined)) throw new Error('the checkpoint has no complete list of encoder stages');
  return { stem: stem.shape[0] === 3 ? 'cifar' : 'imagenet', inputChannels: stem.shape[2]!, widths, blocks };
}

/**
 * The encoder of a Looktwice checkpoint as torchvision-named float32 tensors (channels-first
 * filters), with `num_batches_tracked` = `stepsDone` for each batch norm, so that
 * `load_state_dict(strict=True)` of an equivalent torchvision module accepts it.
 */
export function encoderToTorchvision(tensors: ReadonlyMap<string, CheckpointTensor>, stepsDone: number): { structure: EncoderStructure; tensors: TensorToWrite[] } {
  const structure = structureOfCheckpoint(tensors);
  const out: TensorToWrite[] = [];
  for (const pair of pairs(structure)) {
    const saved = tensors.get(pair.looktwice);
    if (!saved) throw new Error(`the checkpoint has no tensor ${pair.looktwice}`);
    if (saved.shape.join('x') !== pair.shape.join('x')) throw new Error(`checkpoint tensor ${pair.looktwice} has shape ${saved.shape.join('x')}, expected ${pair.shape.join('x')}`);
    if (pair.conv) {
      const [kh, kw, input, output] = pair.shape;
      out.push({ name: pair.torch, shape: [output!, input!, kh!, kw!], dtype: 'F32', values: filterToTorch(saved.values, pair.shape) });
    } else {
      out.push({ name: pair.torch, shape: pair.shape, dtype: 'F32', values: saved.values });
      if (pair.torch.endsWith('.running_var')) out.push({ name: pair.torch.replace(/running_var$/, 'num_batches_tracked'), shape: [], dtype: 'I64', values: [stepsDone] });
    }
  }
  return { structure, tensors: out };
}

const PREFIXES = ['module.', 'backbone.', 'encoder.', 'model.', '_orig_mod.'];

/** What import made of a file's tensor names. */
export interface NormalisedNames {
  /** torchvision name → the tensor (under its name in the file). */
  tensors: Map<string, NamedTensor>;
  /** torchvision name → the name in the file, for error messages. */
  original: Map<string, string>;
}

/** Maps the names of a state dict in any accepted layout (see the header) onto torchvision's. */
export function normaliseNames(file: ReadonlyMap<string, NamedTensor>): NormalisedNames {
  let entries = [...file.values()].map((tensor) => {
    let name = tensor.name;
    for (let again = true; again; ) {
      again = false;
      for (const prefix of PREFIXES) {
        if (name.startsWith(prefix)) {
          name = name.slice(prefix.length);
          again = true;
        }
      }
    }
    return { name, tensor };
  });
  // Lightly's nn.Sequential of a ResNet's children: 0 = conv1, 1 = bn1, numbered stages after.
  const hasNamedStem = entries.some((e) => e.name === 'conv1.weight');
  if (!hasNamedStem && entries.some((e) => e.name === '0.weight' && e.tensor.shape.length === 4)) {
    const stageIndices = [...new Set(entries.map((e) => /^(\d+)\.\d+\.conv1\.weight$/.exec(e.name)?.[1]).filter((n): n is string => n !== undefined).map(Number))].sort((a, b) => a - b);
    const stageOf = new Map(stageIndices.map((n, i) => [n, i + 1]));
    entries = entries.map((e) => {
      const match = /^(\d+)\.(.*)$/.exec(e.name);
      if (!match) return e;
      const index = Number(match[1]);
      if (index === 0) return { ...e, name: `conv1.${match[2]}` };
      if (index === 1) return { ...e, name: `bn1.${match[2]}` };
      const stage = stageOf.get(index);
      return stage ? { ...e, name: `layer${stage}.${match[2]}` } : e;
    });
  }
  const tensors = new Map<string, NamedTensor>();
  const original = new Map<string, string>();
  for (const e of entries) {
    const name = e.name.replace(/^(layer\d+\.\d+)\.shortcut\./, '$1.downsample.');
    tensors.set(name, e.tensor);
    original.set(name, e.tensor.name);
  }
  return { tensors, original };
}

/** The structure a torchvision-named state dict describes, or an error saying what is missing. */
export function structureOfStateDict(names: NormalisedNames, source: string): EncoderStructure {
  const conv1 = names.tensors.get('conv1.weight');
  if (!conv1) throw new Error(`${source}: no tensor conv1.weight (nor backbone.conv1.weight, module.conv1.weight, backbone.0.weight): this is not a ResNet state dict in a layout Looktwice reads (see \`looktwice model import --help\`)`);
  if (conv1.shape.length !== 4 || conv1.shape[2] !== conv1.shape[3] || (conv1.shape[2] !== 3 && conv1.shape[2] !== 7)) {
    throw new Error(`${source}: tensor ${names.original.get('conv1.weight')} has shape [${conv1.shape.join(', ')}], expected [out, in, 7, 7] (ImageNet stem) or [out, in, 3, 3] (CIFAR stem)`);
  }
  const blocks: number[] = [];
  const widths: number[] = [];
  for (const [name, tensor] of names.tensors) {
    const match = /^layer(\d+)\.(\d+)\.(conv[123])\.weight$/.exec(name);
    if (!match) continue;
    if (match[3] === 'conv3') throw new Error(`${source}: tensor ${names.original.get(name)} belongs to a bottleneck block (ResNet-50/101/152); Looktwice's encoder has basic blocks only (ResNet-18/34-style), so this file cannot be imported`);
    const s = Number(match[1]) - 1;
    blocks[s] = Math.max(blocks[s] ?? 0, Number(match[2]) + 1);
    if (match[3] === 'conv2' && match[2] === '0') widths[s] = tensor.shape[0]!;
  }
  if (blocks.length === 0) throw new Error(`${source}: no tensor layer1.0.conv1.weight: the file has a stem but no residual stages`);
  for (let s = 0; s < blocks.length; s++) {
    if (blocks[s] === undefined || widths[s] === undefined) throw new Error(`${source}: stage layer${s + 1} is missing (its tensor layer${s + 1}.0.conv2.weight is not in the file)`);
  }
  return { stem: conv1.shape[2] === 3 ? 'cifar' : 'imagenet', inputChannels: conv1.shape[1]!, widths, blocks };
}

/**
 * The Looktwice encoder tensors of a torchvision-named state dict, each checked: a missing or
 * mis-shaped tensor is an error naming it (as it is called in the file) and the expected shape.
 * Returns the tensors and the names in the file that were not used.
 */
export function encoderFromTorchvision(names: NormalisedNames, structure: EncoderStructure, source: string): { tensors: CheckpointTensor[]; ignored: string[] } {
  const out: CheckpointTensor[] = [];
  const used = new Set<string>();
  for (const pair of pairs(structure)) {
    const tensor = names.tensors.get(pair.torch);
    const torchShape = pair.conv ? [pair.shape[3]!, pair.shape[2]!, pair.shape[0]!, pair.shape[1]!] : pair.shape;
    if (!tensor) throw new Error(`${source}: tensor ${pair.torch} is missing (expected shape [${torchShape.join(', ')}])`);
    const shown = names.original.get(pair.torch) ?? pair.torch;
    if (tensor.dtype === 'I64' || tensor.dtype === 'I32') throw new Error(`${source}: tensor ${shown} holds integers (${tensor.dtype}), expected floating-point weights`);
    if (tensor.shape.join('x') !== torchShape.join('x')) throw new Error(`${source}: tensor ${shown} has shape [${tensor.shape.join(', ')}], expected [${torchShape.join(', ')}]`);
    for (let i = 0; i < tensor.values.length; i++) {
      if (!Number.isFinite(tensor.values[i]!)) throw new Error(`${source}: tensor ${shown} holds a value that is not a finite number (at index ${i})`);
    }
    if (pair.looktwice.endsWith('/moving_variance') && tensor.values.some((v) => v < 0)) throw new Error(`${source}: tensor ${shown} (a running variance) has a negative value`);
    out.push({ name: pair.looktwice, shape: pair.shape, values: pair.conv ? filterFromTorch(tensor.values, torchShape) : Float32Array.from(tensor.values) });
    used.add(pair.torch);
  }
  const ignored = [...names.tensors.keys()].filter((name) => !used.has(name) && !name.endsWith('num_batches_tracked')).map((name) => names.original.get(name)!);
  return { tensors: out, ignored };
}
