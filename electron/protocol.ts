/**
 * The app's own URL scheme, `looktwice://app/…`, registered with `protocol.handle` in main.ts.
 * It serves exactly three things and nothing else:
 * - `/thumbnails/<hash>` and `/images/<hash>`: a thumbnail or the full image of the image with
 *   that content hash. The hash is the only input; the file is found by looking the hash up in
 *   the library (MediaLookup), so a page can never name a path on disk. A full image comes as
 *   the bytes the library checked against its catalogue (core/app/library.ts); an original
 *   that changed since is refused (409) with the reason, never sent under an image type.
 * - any other path: a file of the built renderer, confined to its folder (no `..`, no encoded
 *   separators, no symlinks out of it).
 * Pure Node (fs + the global Request/Response), so it is tested without Electron.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { APP_HOST, APP_SCHEME } from './channels.ts';
import { CONTENT_SECURITY_POLICY } from './window-options.ts';

/**
 * A file found for a content hash; `mimeType` when the library knows it better than the
 * extension; `bytes` when the library has already read (and checked) them — those are sent.
 */
export interface MediaFile {
  filePath: string;
  mimeType?: string;
  bytes?: Uint8Array;
}

/** The library's refusal of a file that no longer holds what was catalogued. */
export interface MediaRefusal {
  refused: string;
}

/** Finds the file for a content hash, or null when the library has none. */
export interface MediaLookup {
  thumbnail(hash: string): Promise<MediaFile | null>;
  image(hash: string): Promise<MediaFile | MediaRefusal | null>;
}

export interface ProtocolRoots {
  /** The built renderer (renderer/dist). */
  rendererDir: string;
  media: MediaLookup;
}

/** Where a request leads: a file to send, or a refusal with its HTTP status and reason. */
export type Resolution =
  | { kind: 'file'; filePath: string; mimeType: string; cache: 'no-cache' | 'media' }
  | { kind: 'bytes'; bytes: Uint8Array; mimeType: string }
  | { kind: 'refused'; status: 400 | 403 | 404 | 405 | 409; reason: string };

/** Content hashes: lowercase hex, at least 16 digits (sha-1/sha-256/blake digests, 64-bit hashes). */
const CONTENT_HASH = /^[0-9a-f]{16,128}$/;

const MIME_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.heic': 'image/heic',
  '.heif': 'image/heif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

/** The MIME type for a file name (by extension), application/octet-stream when unknown. */
export function mimeTypeFor(filePath: string): string {
  return MIME_TYPES[path.extname(filePath).toLowerCase()] ?? 'application/octet-stream';
}

function refused(status: 400 | 403 | 404 | 405 | 409, reason: string): Resolution {
  return { kind: 'refused', status, reason };
}

/**
 * Splits a URL path into decoded segments, refusing anything that could leave a folder: `.`/`..`,
 * empty segments, separators or NUL hidden by percent-encoding, and dot-files. Returns the
 * reason as a string when refused.
 */
export function safeSegments(pathname: string): string[] | string {
  const raw = pathname.replace(/^\/+/, '');
  if (raw === '') return [];
  const segments: string[] = [];
  for (const encoded of raw.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(encoded);
    } catch {
      return `malformed escape in "${encoded}"`;
    }
    if (segment === '') return 'empty path segment';
    if (segment.startsWith('.')) return `"${segment}" is not allowed`;
    if (/[/\\\0:]/.test(segment)) return `"${segment}" contains a separator`;
    segments.push(segment);
  }
  return segments;
}

/** True when `child` is `parent` or inside it (both absolute, already resolved). */
function isInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** Resolves a request for our scheme to a file or a refusal. Never throws. */
export async function resolveRequest(method: string, rawUrl: string, roots: ProtocolRoots): Promise<Resolution> {
  if (method !== 'GET' && method !== 'HEAD') return refused(405, `${method} is not allowed`);
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return refused(400, 'not a URL');
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return refused(404, `unknown host "${url.host}"`);
  const segments = safeSegments(url.pathname);
  if (typeof segments === 'string') return refused(400, segments);

  const [first, second, ...rest] = segments;
  if (first === 'thumbnails' || first === 'images') {
    if (second === undefined || rest.length > 0 || !CONTENT_HASH.test(second)) {
      return refused(400, `/${first}/ takes exactly one content hash`);
    }
    let found: MediaFile | MediaRefusal | null;
    try {
      found = first === 'thumbnails' ? await roots.media.thumbnail(second) : await roots.media.image(second);
    } catch (error) {
      return refused(404, `lookup failed: ${(error as Error).message}`);
    }
    if (found === null) return refused(404, `no ${first === 'thumbnails' ? 'thumbnail' : 'image'} for ${second}`);
    if ('refused' in found) return refused(409, found.refused);
    if (found.bytes) return { kind: 'bytes', bytes: found.bytes, mimeType: found.mimeType ?? mimeTypeFor(found.filePath) };
    if (!(await isRegularFile(found.filePath))) return refused(404, `the file for ${second} is missing`);
    return { kind: 'file', filePath: found.filePath, mimeType: found.mimeType ?? mimeTypeFor(found.filePath), cache: 'media' };
  }

  const relative = segments.length === 0 ? ['index.html'] : segments;
  let root: string;
  let filePath: string;
  try {
    root = await fs.promises.realpath(roots.rendererDir);
    filePath = await fs.promises.realpath(path.join(root, ...relative));
  } catch {
    return refused(404, `no such file: ${relative.join('/')}`);
  }
  // realpath follows symlinks: a link pointing out of the renderer folder is refused here.
  if (!isInside(root, filePath)) return refused(403, `${relative.join('/')} is outside the app`);
  if (!(await isRegularFile(filePath))) return refused(404, `not a file: ${relative.join('/')}`);
  return { kind: 'file', filePath, mimeType: mimeTypeFor(filePath), cache: 'no-cache' };
}

async function isRegularFile(filePath: string): Promise<boolean> {
  try {
    return (await fs.promises.stat(filePath)).isFile();
  } catch {
    return false;
  }
}

/** Headers every response of our scheme carries. */
function baseHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

/**
 * The protocol handler: Request in, Response out. Files are streamed; refusals are plain-text
 * responses with the status and reason (and reported to `onRefused` for the log).
 */
export async function handleRequest(
  request: Request,
  roots: ProtocolRoots,
  onRefused: (url: string, status: number, reason: string) => void = () => {},
): Promise<Response> {
  const resolution = await resolveRequest(request.method, request.url, roots);
  if (resolution.kind === 'refused') {
    onRefused(request.url, resolution.status, resolution.reason);
    return new Response(resolution.reason, {
      status: resolution.status,
      headers: { ...baseHeaders(), 'Content-Type': 'text/plain; charset=utf-8' },
    });
  }
  if (resolution.kind === 'bytes') {
    const headers = { ...baseHeaders(), 'Content-Type': resolution.mimeType, 'Content-Length': String(resolution.bytes.byteLength), 'Cache-Control': 'private, max-age=86400' };
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(resolution.bytes), { status: 200, headers });
  }
  const stat = await fs.promises.stat(resolution.filePath);
  const headers = {
    ...baseHeaders(),
    'Content-Type': resolution.mimeType,
    'Content-Length': String(stat.size),
    // Media is addressed by content hash: the bytes behind a URL do not change.
    'Cache-Control': resolution.cache === 'media' ? 'private, max-age=86400' : 'no-cache',
  };
  if (request.method === 'HEAD') return new Response(null, { status: 200, headers });
  const body = Readable.toWeb(fs.createReadStream(resolution.filePath)) as ReadableStream<Uint8Array>;
  return new Response(body, { status: 200, headers });
}
