// The engine process protocol: the runtime's message handling directly, then the real engine
// entry (electron/engine/entry.ts, the code the utilityProcess runs) forked under plain Node with
// an IPC channel, driving the real service on a real temporary SQLite library.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineRuntime, type EngineService } from '../../electron/engine/runtime.ts';
import { childProcessPort, EngineHost, remoteApi } from '../../electron/engine/host.ts';
import { parseEngineMessage, parseHostMessage, type EngineMessage } from '../../electron/engine/messages.ts';
import { dawnFlagsFromEnvironment } from '../../electron/engine/gpu.ts';
import { electronSqliteBindingPath } from '../../electron/native-binding.ts';
import { API_METHODS, type ImagePage, type JobInfo, type JobRef, type LibraryInfo } from '../../core/api/contract.ts';
import { handleRequest } from '../../electron/protocol.ts';
import type { MediaFile } from '../../electron/protocol.ts';
import { tempLibrary, writeImage } from '../helpers/index.ts';

/** A small service with one long job that stops at its next step when cancelled, like training. */
function jobService() {
  const listeners = new Set<(name: string, payload: unknown) => void>();
  const emit = (name: string, payload: unknown) => listeners.forEach((listener) => listener(name, payload));
  let controller: AbortController | null = null;
  let finished: Promise<void> = Promise.resolve();
  const checkpoints: number[] = [];
  let closed = false;
  const api = {
    async echo(params: { text: string }) {
      return params.text;
    },
    async fail() {
      throw Object.assign(new Error('No such image.'), { code: 'not_found' });
    },
    async startJob(params: { stepMs: number }) {
      controller = new AbortController();
      const signal = controller.signal;
      finished = (async () => {
        for (let step = 1; ; step++) {
          await new Promise((resolve) => setTimeout(resolve, params.stepMs));
          emit('progress', { step });
          if (signal.aborted) {
            checkpoints.push(step); // what the trainer does on cancel: save, then stop
            return;
          }
        }
      })();
      return { jobId: 'job-1' };
    },
  };
  const service: EngineService = {
    api,
    methods: ['echo', 'fail', 'startJob'],
    internal: { secret: async () => 'only for main' },
    onAnyEvent: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stopAll: async () => {
      const running = controller && !controller.signal.aborted ? ['job-1'] : [];
      controller?.abort();
      await finished;
      return running;
    },
    close: () => {
      closed = true;
    },
  };
  return { service, checkpoints, isClosed: () => closed };
}

function runtimeWith(service: EngineService) {
  const sent: EngineMessage[] = [];
  const warnings: string[] = [];
  const runtime = new EngineRuntime(service, (message) => sent.push(message), { warn: (message) => warnings.push(message) });
  return { runtime, sent, warnings };
}

describe('message parsers', () => {
  it('accept well-formed messages and reject everything else', () => {
    expect(parseHostMessage({ type: 'call', id: 1, method: 'echo', args: [] })).toEqual({ type: 'call', id: 1, method: 'echo', args: [] });
    expect(parseHostMessage({ type: 'stop', reason: 'window closed' })).toEqual({ type: 'stop', reason: 'window closed' });
    for (const bad of [null, 'call', [], { type: 'call', id: 1.5, method: 'x', args: [] }, { type: 'call', id: 1, method: 2, args: [] }, { type: 'call', id: 1, method: 'x' }, { type: 'stop' }, { type: 'exec' }]) {
      expect(parseHostMessage(bad)).toBeNull();
    }
    expect(parseEngineMessage({ type: 'result', id: 2, result: { ok: true, value: null } })).not.toBeNull();
    expect(parseEngineMessage({ type: 'result', id: 2, result: { ok: false, error: { name: 'E', message: 'm' } } })).not.toBeNull();
    for (const bad of [{ type: 'result', id: 2, result: { ok: true } }, { type: 'result', id: 2, result: { ok: false, error: 'x' } }, { type: 'stopped', cancelledJobs: [1] }, { type: 'event', name: 'x' }, { type: 'fatal' }]) {
      expect(parseEngineMessage(bad)).toBeNull();
    }
  });
});

describe('EngineRuntime', () => {
  it('answers calls with values and errors, by id', async () => {
    const { runtime, sent } = runtimeWith(jobService().service);
    await runtime.receive({ type: 'call', id: 1, method: 'echo', args: [{ text: 'hi' }] });
    await runtime.receive({ type: 'call', id: 2, method: 'fail', args: [] });
    expect(sent).toEqual([
      { type: 'result', id: 1, result: { ok: true, value: 'hi' } },
      { type: 'result', id: 2, result: { ok: false, error: { name: 'Error', message: 'No such image.', code: 'not_found' } } },
    ]);
  });

  it('refuses unknown methods, inherited properties and internals without the prefix; allows prefixed internals', async () => {
    const { runtime, sent } = runtimeWith(jobService().service);
    await runtime.receive({ type: 'call', id: 1, method: 'secret', args: [] });
    await runtime.receive({ type: 'call', id: 2, method: 'internal:toString', args: [] });
    await runtime.receive({ type: 'call', id: 3, method: 'constructor', args: [] });
    await runtime.receive({ type: 'call', id: 4, method: 'internal:secret', args: [] });
    expect(sent.map((message) => message.type === 'result' && (message.result.ok ? message.result.value : message.result.error.code))).toEqual([
      'invalid', 'invalid', 'invalid', 'only for main',
    ]);
  });

  it('ignores malformed messages with a warning', async () => {
    const { runtime, sent, warnings } = runtimeWith(jobService().service);
    await runtime.receive({ type: 'call', method: 'echo' });
    expect(sent).toEqual([]);
    expect(warnings[0]).toMatch(/malformed/);
  });

  it('forwards events, and on stop cancels the job, waits for its checkpoint, then refuses calls', async () => {
    const { service, checkpoints } = jobService();
    const { runtime, sent } = runtimeWith(service);
    await runtime.receive({ type: 'call', id: 1, method: 'startJob', args: [{ stepMs: 5 }] });
    await new Promise((resolve) => setTimeout(resolve, 40));
    await runtime.receive({ type: 'stop', reason: 'window closed' });
    expect(checkpoints).toHaveLength(1);
    const stopped = sent.at(-1);
    expect(stopped).toEqual({ type: 'stopped', cancelledJobs: ['job-1'] });
    expect(sent.filter((message) => message.type === 'event').length).toBe(checkpoints[0]);
    await runtime.receive({ type: 'call', id: 2, method: 'echo', args: [{ text: 'late' }] });
    expect(sent.at(-1)).toMatchObject({ type: 'result', id: 2, result: { ok: false, error: { code: 'busy' } } });
  });
});

describe('dawnFlagsFromEnvironment', () => {
  it('is empty by default (core/ml/backend.ts asks Dawn for a high-performance adapter)', () => {
    expect(dawnFlagsFromEnvironment({})).toEqual([]);
  });

  it('turns the overrides into Dawn options', () => {
    expect(dawnFlagsFromEnvironment({ LOOKTWICE_GPU_BACKEND: 'Vulkan', LOOKTWICE_GPU_ADAPTER: 'NVIDIA H200', LOOKTWICE_DAWN_FLAGS: 'enable-dawn-features=allow_unsafe_apis,dump_shaders; ' }))
      .toEqual(['backend=vulkan', 'adapter=NVIDIA H200', 'enable-dawn-features=allow_unsafe_apis,dump_shaders']);
  });

  it('rejects an unknown backend or a malformed flag by name', () => {
    expect(() => dawnFlagsFromEnvironment({ LOOKTWICE_GPU_BACKEND: 'cuda' })).toThrow(/LOOKTWICE_GPU_BACKEND/);
    expect(() => dawnFlagsFromEnvironment({ LOOKTWICE_DAWN_FLAGS: 'oops' })).toThrow(/LOOKTWICE_DAWN_FLAGS/);
  });
});

describe('the engine entry in a child process (real service, real SQLite)', () => {
  const ENTRY = path.resolve('electron/engine/entry.ts');
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

  function startEngine(args: string[], exits: Array<{ code: number | null; wasReady: boolean }> = [], fatals: string[] = [], env: NodeJS.ProcessEnv = process.env) {
    const child = fork(ENTRY, args, { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'pipe', 'ipc'], env });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    cleanups.push(() => child.kill());
    const events: Array<{ name: string; payload: unknown }> = [];
    const warnings: string[] = [];
    const host = new EngineHost(childProcessPort(child), {
      onEvent: (name, payload) => events.push({ name, payload }),
      warn: (message) => warnings.push(message),
      onFatal: (message) => fatals.push(message),
      onUnexpectedExit: (code, wasReady) => exits.push({ code, wasReady }),
    });
    return { child, host, events, warnings, stderr: () => stderr };
  }

  it('serves the contract over the protocol and stops cleanly', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'looktwice-engine-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const dbPath = path.join(dir, 'library.db');
    const { child, host, stderr } = startEngine(['--db', dbPath]);
    await host.ready.catch((error: Error) => {
      throw new Error(`${error.message}\n${stderr()}`);
    });

    const api = remoteApi(API_METHODS, host) as unknown as { getLibrary(): Promise<LibraryInfo>; getJob(p: { jobId: string }): Promise<unknown> };
    const library = await api.getLibrary();
    expect(library.dbPath).toBe(path.resolve(dbPath));
    expect(library.images).toBe(0);
    expect(fs.existsSync(dbPath)).toBe(true);

    const missing = await api.getJob({ jobId: 'nope' }).catch((error: unknown) => error);
    expect(missing).toMatchObject({ name: 'ApiError', code: 'not_found' });

    expect(await host.callInternal('thumbnail', ['a'.repeat(64)])).toBeNull();
    expect(await host.call('internal:nope', [])).toMatchObject({ ok: false, error: { code: 'invalid' } });
    expect(await host.call('close', [])).toMatchObject({ ok: false, error: { code: 'invalid' } });

    const outcome = await host.stop('test', 10_000);
    expect(outcome).toEqual({ clean: true, cancelledJobs: [] });
    expect(host.alive).toBe(false);
    expect(child.exitCode !== null || child.signalCode !== null).toBe(true);
    expect(await host.call('getLibrary', [])).toMatchObject({ ok: false, error: { message: /not running/ } });
  });

  it('reports a start-up failure as fatal and an exit before ready, instead of hanging', async () => {
    const exits: Array<{ code: number | null; wasReady: boolean }> = [];
    const fatals: string[] = [];
    const { host } = startEngine([], exits, fatals);
    await expect(host.ready).rejects.toThrow(/exited/);
    expect(fatals.join('\n')).toMatch(/could not start: .*--db/);
    expect(exits).toEqual([{ code: 1, wasReady: false }]);
  });

  it('tells a crash after start apart from a start-up failure', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'looktwice-engine-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const exits: Array<{ code: number | null; wasReady: boolean }> = [];
    const { child, host } = startEngine(['--db', path.join(dir, 'library.db')], exits);
    await host.ready;
    const pending = host.call('getLibrary', []);
    child.kill('SIGKILL');
    // A call in flight when the engine dies is answered, not left hanging.
    const answer = await pending;
    if (!answer.ok) expect(answer.error.message).toMatch(/stopped unexpectedly/);
    await vi.waitFor(() => expect(exits).toEqual([{ code: null, wasReady: true }]), { timeout: 10_000 });
    expect(host.alive).toBe(false);
  });

  it('runs a real ingest job in the engine: progress and job events reach main, thumbnails resolve by hash', async () => {
    const temp = tempLibrary('looktwice-engine-ingest-');
    cleanups.push(() => temp.cleanup());
    temp.library.close(); // the engine process owns the library
    for (const [index, pattern] of (['gradient', 'shapes', 'noise'] as const).entries()) {
      await writeImage(path.join(temp.photosDir, `photo-${index}.jpg`), { width: 64, height: 48, pattern, seed: index + 1 });
    }
    const { host, events } = startEngine(['--db', temp.dbPath]);
    await host.ready;
    const api = remoteApi(API_METHODS, host) as unknown as {
      addFolder(p: { path: string }): Promise<{ job: JobRef }>;
      listImages(p: object): Promise<ImagePage>;
    };
    const { job } = await api.addFolder({ path: temp.photosDir });
    await vi.waitFor(() => {
      const finished = events.find((event) => event.name === 'job' && (event.payload as JobInfo).jobId === job.jobId && (event.payload as JobInfo).status !== 'running');
      expect(finished?.payload).toMatchObject({ status: 'completed' });
    }, { timeout: 60_000, interval: 100 });
    expect(events.some((event) => event.name === 'progress' && (event.payload as { jobId: string }).jobId === job.jobId)).toBe(true);

    const page = await api.listImages({});
    expect(page.total).toBe(3);
    const media = {
      thumbnail: async (hash: string) => (await host.callInternal('thumbnail', [hash])) as MediaFile | null,
      image: async (hash: string) => (await host.callInternal('image', [hash])) as MediaFile | null,
    };
    const hash = page.items[0]!.hash;
    const thumbnail = await handleRequest(new Request(`looktwice://app/thumbnails/${hash}`), { rendererDir: temp.dir, media });
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get('content-type')).toMatch(/^image\//);
    expect((await thumbnail.arrayBuffer()).byteLength).toBeGreaterThan(0);
    const original = await handleRequest(new Request(`looktwice://app/images/${hash}`), { rendererDir: temp.dir, media });
    expect([original.status, original.headers.get('content-type')]).toEqual([200, 'image/jpeg']);
    expect(Buffer.from(await original.arrayBuffer())).toEqual(fs.readFileSync(page.items[0]!.path));
    const unknown = await handleRequest(new Request(`looktwice://app/thumbnails/${'f'.repeat(64)}`), { rendererDir: temp.dir, media });
    expect(unknown.status).toBe(404);
    expect(await host.stop('test', 10_000)).toMatchObject({ clean: true });
  });

  it('opens the library with the better-sqlite3 build named by LOOKTWICE_SQLITE_BINDING (how `npm start` gives the engine its Electron build)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'looktwice-engine-binding-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    // Here the Node build stands in for the Electron one: the point is that the named file is loaded.
    const nodeBuild = path.resolve('node_modules/better-sqlite3/build/Release/better_sqlite3.node');
    const good = startEngine(['--db', path.join(dir, 'a.db')], [], [], { ...process.env, LOOKTWICE_SQLITE_BINDING: nodeBuild });
    await good.host.ready;
    expect(await good.host.call('getLibrary', [])).toMatchObject({ ok: true });
    await good.host.stop('test', 10_000);

    const fatals: string[] = [];
    const missing = path.join(dir, 'no-such-binding.node');
    const bad = startEngine(['--db', path.join(dir, 'b.db')], [], fatals, { ...process.env, LOOKTWICE_SQLITE_BINDING: missing });
    await expect(bad.host.ready).rejects.toThrow(/exited/);
    expect(fatals.join('\n')).toContain('no-such-binding.node');
  });

  it('names the Electron build per Electron version, OS and CPU', () => {
    expect(electronSqliteBindingPath('/repo', '41.7.1', 'linux', 'x64')).toBe(path.join('/repo', 'node_modules', '.cache', 'looktwice-electron', 'better_sqlite3-electron-41.7.1-linux-x64.node'));
    expect(() => electronSqliteBindingPath('/repo', '../../x', 'linux', 'x64')).toThrow(/not an Electron version/);
  });
});
