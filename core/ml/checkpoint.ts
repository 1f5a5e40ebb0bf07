/**
 * Training checkpoints on disk: `checkpoint.json` (step, configuration, RNG state, optimizer
 * iteration count, and the name/shape/offset of every tensor) plus one float32 little-endian
 * weights file holding encoder, head and optimizer state. Written to temporary names and renamed,
 * JSON last, so a crash mid-write leaves the previous checkpoint intact.
 */
import fs from 'node:fs';
import path from 'node:path';

export const CHECKPOINT_FILE = 'checkpoint.json';

export interface CheckpointTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

export interface CheckpointMeta<Config> {
  version: 1;
  step: number;
  config: Config;
  random: { state: number; spareNormal: number | null };
  optimizerIterations: number;
  lastLoss: number | null;
  savedAt: string;
  weightsFile: string;
  tensors: Array<{ name: string; shape: number[]; offset: number; length: number }>;
}

/** Writes a checkpoint into `dir` (created), replacing the previous one atomically. */
export function saveCheckpoint<Config>(dir: string, meta: Omit<CheckpointMeta<Config>, 'version' | 'savedAt' | 'weightsFile' | 'tensors'>, tensors: CheckpointTensor[]): void {
  fs.mkdirSync(dir, { recursive: true });
  const total = tensors.reduce((sum, t) => sum + t.values.length, 0);
  const buffer = Buffer.alloc(total * 4);
  const entries: CheckpointMeta<Config>['tensors'] = [];
  let offset = 0;
  for (const t of tensors) {
    for (let i = 0; i < t.values.length; i++) buffer.writeFloatLE(t.values[i]!, (offset + i) * 4);
    entries.push({ name: t.name, shape: t.shape, offset, length: t.values.length });
    offset += t.values.length;
  }
  const weightsFile = `weights-${meta.step}.bin`;
  const previous = readMetaIfAny<Config>(dir);
  fs.writeFileSync(path.join(dir, `${weightsFile}.tmp`), buffer);
  fs.renameSync(path.join(dir, `${weightsFile}.tmp`), path.join(dir, weightsFile));
  const full: CheckpointMeta<Config> = { version: 1, ...meta, savedAt: new Date().toISOString(), weightsFile, tensors: entries };
  fs.writeFileSync(path.join(dir, `${CHECKPOINT_FILE}.tmp`), `${JSON.stringify(full)}\n`);
  fs.renameSync(path.join(dir, `${CHECKPOINT_FILE}.tmp`), path.join(dir, CHECKPOINT_FILE));
  if (previous && previous.weightsFile !== weightsFile) fs.rmSync(path.join(dir, previous.weightsFile), { force: true });
}

function readMetaIfAny<Config>(dir: string): CheckpointMeta<Config> | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, CHECKPOINT_FILE), 'utf8')) as CheckpointMeta<Config>;
  } catch {
    return null;
  }
}

/** True when `dir` holds a checkpoint. */
export function hasCheckpoint(dir: string): boolean {
  return fs.existsSync(path.join(dir, CHECKPOINT_FILE));
}

/** Reads the checkpoint in `dir`, or throws naming the file and what is wrong. */
export function loadCheckpoint<Config>(dir: string): { meta: CheckpointMeta<Config>; tensors: Map<string, CheckpointTensor> } {
  const metaFile = path.join(dir, CHECKPOINT_FILE);
  let meta: CheckpointMeta<Config>;
  try {
    meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as CheckpointMeta<Config>;
  } catch (error) {
    throw new Error(`cannot read checkpoint ${metaFile}: ${(error as Error).message}`);
  }
  if (meta.version !== 1) throw new Error(`checkpoint ${metaFile} has unknown version ${String(meta.version)}`);
  const weightsPath = path.join(dir, meta.weightsFile);
  let buffer: Buffer;
  try {
    buffer = fs.readFileSync(weightsPath);
  } catch (error) {
    throw new Error(`cannot read checkpoint weights ${weightsPath}: ${(error as Error).message}`);
  }
  const tensors = new Map<string, CheckpointTensor>();
  for (const entry of meta.tensors) {
    if ((entry.offset + entry.length) * 4 > buffer.length) throw new Error(`checkpoint weights ${weightsPath} are truncated (tensor ${entry.name})`);
    const values = new Float32Array(entry.length);
    for (let i = 0; i < entry.length; i++) values[i] = buffer.readFloatLE((entry.offset + i) * 4);
    tensors.set(entry.name, { name: entry.name, shape: entry.shape, values });
  }
  return { meta, tensors };
}
