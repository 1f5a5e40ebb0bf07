// Renders build/icon.svg into every icon the installers need, with sharp (already a dependency):
//   build/icons/<N>x<N>.png   16…1024 px (Linux: electron-builder takes the folder; the window
//                             icon is 512x512.png)
//   build/icon.png            1024 px (fallback for every platform)
//   build/icon.ico            Windows: 16, 24, 32, 48, 64, 128, 256 px as PNG entries
//   build/icon.icns           macOS: 16…1024 px as PNG entries (icp4…ic10)
// ICO and ICNS are written here directly: both are a small header plus embedded PNGs, which
// every supported Windows (Vista+) and macOS (10.7+) reads. Run: node build/make-icons.mjs
import sharp from 'sharp';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const svg = fs.readFileSync(path.join(here, 'icon.svg'));
const SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];

async function png(size) {
  return sharp(svg, { density: Math.max(72, (72 * size) / 1024 * 4) })
    .resize(size, size)
    .png({ compressionLevel: 9 })
    .toBuffer();
}

/** ICO: ICONDIR (6 bytes), one ICONDIRENTRY (16 bytes) per image, then the PNG data. */
export function makeIco(images) {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // type 1 = icon
  header.writeUInt16LE(images.length, 4);
  let offset = 6 + 16 * images.length;
  const entries = images.map(({ size, data }) => {
    const entry = Buffer.alloc(16);
    entry.writeUInt8(size >= 256 ? 0 : size, 0); // 0 means 256
    entry.writeUInt8(size >= 256 ? 0 : size, 1);
    entry.writeUInt8(0, 2); // no palette
    entry.writeUInt8(0, 3);
    entry.writeUInt16LE(1, 4); // colour planes
    entry.writeUInt16LE(32, 6); // bits per pixel
    entry.writeUInt32LE(data.length, 8);
    entry.writeUInt32LE(offset, 12);
    offset += data.length;
    return entry;
  });
  return Buffer.concat([header, ...entries, ...images.map(({ data }) => data)]);
}

/** ICNS: 'icns' + total length, then (OSType, length incl. 8-byte header, PNG) per image. */
export function makeIcns(images) {
  const chunks = images.map(({ type, data }) => {
    const head = Buffer.alloc(8);
    head.write(type, 0, 'ascii');
    head.writeUInt32BE(data.length + 8, 4);
    return Buffer.concat([head, data]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'ascii');
  head.writeUInt32BE(8 + chunks.reduce((sum, chunk) => sum + chunk.length, 0), 4);
  return Buffer.concat([head, ...chunks]);
}

const rendered = new Map();
for (const size of SIZES) rendered.set(size, await png(size));

fs.mkdirSync(path.join(here, 'icons'), { recursive: true });
for (const [size, data] of rendered) fs.writeFileSync(path.join(here, 'icons', `${size}x${size}.png`), data);
fs.writeFileSync(path.join(here, 'icon.png'), rendered.get(1024));
fs.writeFileSync(path.join(here, 'icon.ico'), makeIco([16, 24, 32, 48, 64, 128, 256].map((size) => ({ size, data: rendered.get(size) }))));
// icp4 16, icp5 32, icp6 64, ic07 128, ic08 256, ic09 512, ic10 1024 (512@2x).
const ICNS_TYPES = [['icp4', 16], ['icp5', 32], ['icp6', 64], ['ic07', 128], ['ic08', 256], ['ic09', 512], ['ic10', 1024]];
fs.writeFileSync(path.join(here, 'icon.icns'), makeIcns(ICNS_TYPES.map(([type, size]) => ({ type, data: rendered.get(size) }))));
console.log(`icons written: ${SIZES.map((size) => `${size}px`).join(', ')}, icon.ico, icon.icns`);
