/**
 * `looktwice model export|import` — the encoder out of and into the library as torchvision-layout
 * safetensors (core/app/interop.ts). --json: one JSON document (the use case's result).
 */
import { openLibrary } from '../../store/db.ts';
import { modelExportOptionsSchema, modelImportOptionsSchema } from '../../app/schemas.ts';
import { exportModel, importModel } from '../../app/interop.ts';
import { COMMON_OPTIONS, onePositional, optionsOnto, parse, resolveDbPath } from '../args.ts';
import { UsageError, type Command } from '../command.ts';

const USAGE = `usage: looktwice model export [--run ID] --out FILE.safetensors [--force] [--db PATH] [--json]
       looktwice model import FILE.safetensors [--arch auto|resnet18|resnet-small] [--size PX]
                              [--normalisation auto|imagenet|looktwice] [--db PATH] [--json]

export  writes the encoder of a run (default: the newest completed or stopped one) as safetensors
        with torchvision ResNet names and layouts (conv1.weight [out, in, kh, kw], bn1.running_mean,
        layer1.0.conv1.weight, layer2.0.downsample.0.weight, …; no fc), and beside it FILE.json
        (the model card: architecture, input size, stem, padding, normalisation), FILE.README.md
        (the one-line loads) and looktwice_resnet.py (a torch + numpy module that rebuilds the
        encoder exactly: \`from looktwice_resnet import load_encoder; load_encoder("FILE.safetensors")\`).

import  makes a ResNet checkpoint trained elsewhere a completed run that embed, similar, cluster and
        probe use. Accepted: a basic-block ResNet (ResNet-18/34-style, any widths) state dict in
        safetensors, with torchvision names, also under the prefixes module. (DataParallel),
        backbone., encoder., model., _orig_mod.; Lightly's backbone = nn.Sequential(resnet children)
        (backbone.0 = conv1, backbone.1 = bn1, numbered stages); shortcut.0/1 for downsample.0/1.
        fc, projection heads and momentum encoders are ignored (listed). Bottleneck ResNets
        (ResNet-50) are refused. Convert a .pt/.pth state dict in Python:
          import torch; from safetensors.torch import save_file
          save_file(torch.load("model.pth", map_location="cpu"), "encoder.safetensors")
        A missing or mis-shaped tensor is an error naming it and the expected shape.

  --run ID            the run to export (completed or stopped)
  --out FILE          where the weights go (must end in .safetensors)
  --force             replace FILE when it exists
  --arch A            auto (default: from the shapes), or the architecture the file must be
  --size PX           input side the encoder embeds at (default: the card's, else 32 for a 3×3
                      CIFAR stem, 224 for a 7×7 ImageNet stem)
  --normalisation N   pixel normalisation (default: the card's, else imagenet: torchvision's mean
                      and std; looktwice: p/255 − 0.5)
  --json              one JSON document: the result

Exit status: 0 when written/imported; 1 when the file cannot be used (the reason is printed);
2 on a usage error.`;

export const modelCommand: Command = {
  name: 'model',
  summary: 'export the encoder (torchvision safetensors) or import one trained elsewhere',
  usage: USAGE,
  async run(argv, io) {
    const [action, ...rest] = argv;
    if (action !== 'export' && action !== 'import') throw new UsageError(action ? `unknown action "${action}" (export or import)` : 'say export or import');
    if (action === 'export') {
      const { values } = parse(rest, { ...COMMON_OPTIONS, run: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean', default: false } }, false);
      if (!values.out) throw new UsageError('--out FILE.safetensors is required');
      const options = optionsOnto(modelExportOptionsSchema, values, { run: 'runId', out: 'out', force: 'force' });
      const library = openLibrary(resolveDbPath(values.db, io.env));
      try {
        const result = exportModel(library, options);
        if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
        else io.stdout.write(`Wrote the ${result.arch} encoder of run ${result.run} (${result.inputSize} px in, ${result.dim}-d out, ${result.tensors} tensors) to ${result.weights}\n  card: ${result.card}\n  README: ${result.readme}\n  PyTorch module: ${result.pytorchModule}\n`);
        return 0;
      } finally {
        library.close();
      }
    }
    const { values, positionals } = parse(rest, { ...COMMON_OPTIONS, arch: { type: 'string' }, size: { type: 'string' }, normalisation: { type: 'string' } }, true);
    const file = onePositional(positionals, 'name the .safetensors file to import');
    const options = optionsOnto(modelImportOptionsSchema, values, { arch: 'arch', size: 'sizePx', normalisation: 'normalisation' }, { file });
    const library = openLibrary(resolveDbPath(values.db, io.env));
    try {
      const result = importModel(library, options);
      if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
      else {
        io.stdout.write(`Imported ${file} as run ${result.run}: ${result.arch} (widths ${result.widths.join('-')}, blocks ${result.blocks.join('-')}, ${result.stem} stem), ${result.sizePx} px in, ${result.dim}-d out.\n`);
        if (result.ignored.length > 0) io.stdout.write(`  ignored ${result.ignored.length} tensor(s) that are not the encoder: ${result.ignored.slice(0, 6).join(', ')}${result.ignored.length > 6 ? ', …' : ''}\n`);
        io.stdout.write(`  next: looktwice embed --run ${result.run}\n`);
      }
      return 0;
    } finally {
      library.close();
    }
  },
};
