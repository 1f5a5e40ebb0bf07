/**
 * File names that are not valid UTF-8, kept losslessly in the text the catalogue stores.
 *
 * On Linux a file name is bytes; Node turns invalid UTF-8 into U+FFFD, after which the path
 * names no file at all. The scan reads such a folder's names as bytes and maps every byte that
 * is not part of a valid UTF-8 sequence to one code point of U+EF80–U+EFFF (byte 0x80 + n →
 * U+EF80 + n; bytes below 0x80 are always valid). Valid names are stored unchanged, except the
 * rare one that itself contains a character of that range: its bytes are mapped the same way,
 * so the mapping back is exact for every name. Paths are joined and compared as the stored
 * text; `fsPath` gives the file system the original bytes, `decoderInput` gives libvips (which
 * opens files only by a text path) the file's bytes, and `readableName` is the valid UTF-8 text
 * other tools show for such a name.
 */
import fs from 'node:fs';

const FIRST = 0xef80;
const LAST = 0xefff;
const ESCAPED = /[\uef80-\uefff]/;

/** True when `text` holds escaped bytes (its file-system form is a Buffer). */
export function hasEscapedBytes(text: string): boolean {
  return ESCAPED.test(text);
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when the byte there starts none. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  const cont = (k: number): boolean => i + k < bytes.length && (bytes[i + k]! & 0xc0) === 0x80;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const b1 = bytes[i + 1]!;
    if (b0 === 0xe0 && b1 < 0xa0) return 0; // overlong
    if (b0 === 0xed && b1 >= 0xa0) return 0; // UTF-16 surrogates
    return 3;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const b1 = bytes[i + 1]!;
    if (b0 === 0xf0 && b1 < 0x90) return 0; // overlong
    if (b0 === 0xf4 && b1 >= 0x90) return 0; // above U+10FFFF
    return 4;
  }
  return 0;
}

/** The stored text of a file name (or path) given as bytes; exact inverse of `nameBytes`. */
export function nameFromBytes(bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let out = '';
  let i = 0;
  let runStart = 0;
  while (i < buffer.length) {
    const length = sequenceLength(buffer, i);
    // A valid character inside the escape range is escaped too, byte by byte.
    const escapeRange = length === 3 && buffer[i] === 0xee && buffer[i + 1]! >= 0xbe;
    if (length > 0 && !escapeRange) {
      i += length;
      continue;
    }
    out += buffer.toString('utf8', runStart, i);
    const end = length > 0 ? i + length : i + 1;
    for (; i < end; i++) out += String.fromCharCode(FIRST + (buffer[i]! - 0x80));
    runStart = i;
  }
  return out + buffer.toString('utf8', runStart, buffer.length);
}

/** The bytes a stored name (or path) stands for. */
export function nameBytes(text: string): Buffer {
  if (!hasEscapedBytes(text)) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let runStart = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < FIRST || code > LAST) continue;
    parts.push(Buffer.from(text.slice(runStart, i), 'utf8'), Buffer.from([code - FIRST + 0x80]));
    runStart = i + 1;
  }
  parts.push(Buffer.from(text.slice(runStart), 'utf8'));
  return Buffer.concat(parts);
}

/** What to hand the file system for a stored path: the text itself, or its bytes when it holds escaped ones. */
export function fsPath(text: string): string | Buffer {
  return hasEscapedBytes(text) ? nameBytes(text) : text;
}

/**
 * What to hand sharp (libvips) for a stored path: the path itself, or the file's bytes when the
 * name is not UTF-8 — libvips opens files by a text path, which cannot name such a file.
 */
export async function decoderInput(text: string): Promise<string | Buffer> {
  return hasEscapedBytes(text) ? fs.promises.readFile(nameBytes(text)) : text;
}

/**
 * The name as valid UTF-8, for files and tables read by other tools (an export): every byte
 * that is not UTF-8 becomes U+FFFD, as file managers and Python's errors="replace" show it. It
 * names the file only when the name was valid UTF-8 to begin with.
 */
export function readableName(text: string): string {
  return hasEscapedBytes(text) ? nameBytes(text).toString('utf8') : text;
}
