/**
 * Browser mode transport (`looktwice serve`): a node:http server that serves the built renderer,
 * the contract's methods as POST /api/<method> (JSON), its events as Server-Sent Events on
 * GET /api/events, and thumbnails/images by content hash.
 *
 * Security, because a local web server is reachable by every web page the user visits:
 * - binds 127.0.0.1 by default;
 * - a random per-run token (in the printed URL) is required on every request — as `?token=`,
 *   the `x-looktwice-token` header, or the HttpOnly SameSite=Strict cookie set on first load;
 * - the app lives under a random path of its own (`/s/<random>/`, in the printed URL) and the
 *   cookie is confined to it and named after the port: browsers send cookies to every port of
 *   a host, so a cookie on `/` would reach any other local server the user visits, and a
 *   second `serve` on another port would overwrite it (its first tab then answers 401);
 * - the Host header must name this server (defeats DNS rebinding) and a cross-origin Origin or
 *   Sec-Fetch-Site is refused (defeats CSRF even with the cookie);
 * - API calls must be JSON POSTs (no form posts);
 * - files are served only from the renderer's dist folder and from content-hash lookups,
 *   never from a path in the request; an original only while it still holds the catalogued
 *   content (core/app/library.ts), else 409 with the reason.
 */
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { API_EVENTS, API_METHODS, CONTENT_HASH_PATTERN, WIRE_FLOAT32_KEY, type ApiMethodName, type LooktwiceApi } from './contract.ts';
import type { AnyEventListener } from './events.ts';
import { toErrorPayload } from './errors.ts';

/** What the server needs from the service besides the contract's methods. */
export interface ServedApi extends LooktwiceApi {
  events: { onAny(listener: AnyEventListener): () => void };
  /** Absolute path of the thumbnail for a content hash (regenerated when its file is gone), or null. */
  thumbnailFile(hash: string): Promise<string | null>;
  /**
   * The bytes and MIME type of the image with this content hash, checked against what was
   * catalogued; `refused` with the reason when its file changed since; null when unknown.
   */
  imageFile(hash: string): Promise<{ contentType: string; bytes: Buffer } | { refused: string } | null>;
}

export interface ServerOptions {
  api: ServedApi;
  /** The built renderer (index.html and assets). */
  rendererDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Fixed token (tests); default: 32 random bytes as hex. */
  token?: string;
}

export interface RunningServer {
  /** The URL to open: the app's own path, with the token. */
  url: string;
  origin: string;
  /** The app's own random path (`/s/<hex>/`), where the page, and only it, gets its cookie. */
  appPath: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/** The cookie's name on a port: two servers on two ports keep two cookies. */
function cookieName(port: number): string {
  return `looktwice_token_${port}`;
}
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const METHOD_NAMES = new Set<string>(API_METHODS);

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // The token is in the page URL; never leak it to another site.
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

/** JSON.stringify that carries Float32Array as base64 of its little-endian bytes. */
export function encodeWire(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item instanceof Float32Array) {
      return { [WIRE_FLOAT32_KEY]: Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString('base64') };
    }
    return item;
  });
}

/** JSON.parse that turns `{ "$float32": base64 }` back into Float32Array. */
export function decodeWire(text: string): unknown {
  return JSON.parse(text, (_key, item: unknown) => {
    if (item && typeof item === 'object' && !Array.isArray(item)) {
      const encoded = (item as Record<string, unknown>)[WIRE_FLOAT32_KEY];
      if (typeof encoded === 'string' && Object.keys(item).length === 1) {
        const bytes = Buffer.from(encoded, 'base64');
        const copy = new Uint8Array(bytes.length - (bytes.length % 4));
        copy.set(bytes.subarray(0, copy.length));
        return new Float32Array(copy.buffer);
      }
    }
    return item;
  });
}

function tokensEqual(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

function send(response: http.ServerResponse, status: number, body: string | Buffer, contentType: string, extra: Record<string, string> = {}): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': contentType, 'cache-control': 'no-store', ...extra });
  response.end(body);
}

function sendJson(response: http.ServerResponse, status: number, value: unknown): void {
  send(response, status, encodeWire(value), 'application/json; charset=utf-8');
}

function sendError(response: http.ServerResponse, status: number, message: string): void {
  sendJson(response, status, { error: { code: status === 404 ? 'not_found' : 'invalid', message } });
}

async function readBody(request: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const ERROR_STATUS: Record<string, number> = { invalid: 400, not_found: 404, not_available: 501, busy: 409, cancelled: 409, failed: 500 };

/** Starts the server; resolves once it listens. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? crypto.randomBytes(32).toString('hex');
  const rendererDir = path.resolve(options.rendererDir);
  const api = options.api;
  const sseClients = new Set<http.ServerResponse>();
  let port = options.port ?? 0;
  const appPath = `/s/${crypto.randomBytes(16).toString('hex')}/`;
  const loopbackOnly = LOOPBACK_HOSTS.has(host);

  /** The Host header must be this server: a loopback name (or the bound host) with our port. */
  function hostAllowed(hostHeader: string | undefined): boolean {
    if (!hostHeader) return false;
    const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader.toLowerCase());
    if (!match) return false;
    const name = match[1]!;
    const hostPort = match[2] ? Number(match[2]) : 80;
    if (hostPort !== port) return false;
    if (LOOPBACK_HOSTS.has(name)) return true;
    // Bound to a LAN address: accept that address (and any name, when bound to all interfaces).
    return !loopbackOnly && (host === '0.0.0.0' || host === '::' || name === host.toLowerCase());
  }

  function originAllowed(request: http.IncomingMessage): boolean {
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== `http://${request.headers.host ?? ''}`) return false;
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
    return true;
  }

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    if (!hostAllowed(request.headers.host)) return sendError(response, 421, 'unknown host');
    if (!originAllowed(request)) return sendError(response, 403, 'cross-origin requests are not allowed');
    const url = new URL(request.url ?? '/', `http://${request.headers.host}`);
    // Under the app's path every route is the same as at the root; the cookie counts only there
    // (a browser sends it nowhere else).
    const inApp = url.pathname.startsWith(appPath);
    const pathname = inApp ? url.pathname.slice(appPath.length - 1) : url.pathname;
    const queryToken = url.searchParams.get('token') ?? undefined;
    const headerToken = request.headers['x-looktwice-token'];
    const cookieToken = inApp ? readCookie(request.headers.cookie, cookieName(port)) : undefined;
    const given = queryToken ?? (typeof headerToken === 'string' ? headerToken : undefined) ?? cookieToken;
    if (!tokensEqual(given, token)) {
      return send(response, 401, 'Looktwice: open the full address printed by `looktwice serve` (it contains the access token).\n', 'text/plain; charset=utf-8');
    }
    const cookie = `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=${appPath}`;

    if (pathname.startsWith('/api/')) {
      if (pathname === '/api/events') {
        if (request.method !== 'GET') return sendError(response, 405, 'use GET');
        return openEventStream(request, response);
      }
      const method = pathname.slice('/api/'.length);
      if (!METHOD_NAMES.has(method)) return sendError(response, 404, `unknown method ${method}`);
      if (request.method !== 'POST') return sendError(response, 405, 'use POST');
      if (!(request.headers['content-type'] ?? '').startsWith('application/json')) return sendError(response, 415, 'send JSON');
      let params: unknown;
      try {
        const body = await readBody(request);
        params = body.trim() === '' ? undefined : decodeWire(body);
      } catch (error) {
        return sendError(response, 400, `the request could not be read: ${(error as Error).message}`);
      }
      try {
        const fn = api[method as ApiMethodName] as (params: unknown) => Promise<unknown>;
        const result = await fn.call(api, params ?? undefined);
        return sendJson(response, 200, { result: result ?? null });
      } catch (error) {
        const payload = toErrorPayload(error);
        return sendJson(response, ERROR_STATUS[payload.code] ?? 500, { error: payload });
      }
    }

    if (request.method !== 'GET' && request.method !== 'HEAD') return sendError(response, 405, 'use GET');

    const hashRoute = /^\/(thumbnails|images)\/([^/]*)$/.exec(pathname);
    if (hashRoute) {
      const hash = hashRoute[2]!;
      if (!CONTENT_HASH_PATTERN.test(hash) || hash.length > 128) return sendError(response, 400, 'not a content hash');
      if (hashRoute[1] === 'thumbnails') {
        const file = await api.thumbnailFile(hash);
        if (!file) return sendError(response, 404, 'no thumbnail for that image');
        return sendFile(response, file, CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream', true);
      }
      const image = await api.imageFile(hash);
      if (!image) return sendError(response, 404, 'no file for that image');
      if ('refused' in image) return sendError(response, 409, image.refused);
      return send(response, 200, image.bytes, image.contentType, { 'cache-control': 'private, max-age=86400' });
    }

    // The page itself only under the app's path, where its relative URLs carry the cookie.
    if (!inApp) {
      return send(response, 303, '', 'text/plain; charset=utf-8', { location: appPath, 'set-cookie': cookie });
    }

    // Static renderer files; anything else falls back to index.html (client-side routes).
    let relative: string;
    try {
      relative = decodeURIComponent(pathname);
    } catch {
      return sendError(response, 400, 'bad path');
    }
    const candidate = path.resolve(rendererDir, `.${path.posix.normalize(relative)}`);
    const inside = candidate.startsWith(rendererDir + path.sep);
    if (inside && fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
      const immutable = candidate.includes(`${path.sep}assets${path.sep}`);
      return sendFile(response, candidate, CONTENT_TYPES[path.extname(candidate).toLowerCase()] ?? 'application/octet-stream', immutable, immutable ? {} : { 'set-cookie': cookie });
    }
    if (path.extname(relative) !== '' && relative !== '/') return sendError(response, 404, 'not found');
    return sendFile(response, path.join(rendererDir, 'index.html'), CONTENT_TYPES['.html']!, false, { 'set-cookie': cookie });
  }

  function sendFile(response: http.ServerResponse, file: string, contentType: string, cacheable: boolean, extra: Record<string, string> = {}): void {
    fs.readFile(file, (error, data) => {
      if (error) return sendError(response, 404, 'file not found');
      send(response, 200, data, contentType, { 'cache-control': cacheable ? 'private, max-age=86400' : 'no-store', ...extra });
    });
  }

  function openEventStream(request: http.IncomingMessage, response: http.ServerResponse): void {
    response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    response.write(`retry: 2000\n: connected\n\n`);
    sseClients.add(response);
    const heartbeat = setInterval(() => response.write(': ping\n\n'), 15_000);
    const unsubscribe = api.events.onAny((event, payload) => {
      if (!(API_EVENTS as readonly string[]).includes(event)) return;
      response.write(`event: ${event}\ndata: ${encodeWire(payload)}\n\n`);
    });
    request.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      sseClients.delete(response);
    });
  }

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendError(response, 500, (error as Error).message);
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const origin = `http://${urlHost}:${port}`;
  return {
    url: `${origin}${appPath}?token=${token}`,
    origin,
    appPath,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of sseClients) client.end();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
