// The generic IPC helper: sender validation, registration of every method, error transport, and
// a round trip through the preload's bridge (the same two functions Electron wires together).
import { describe, expect, it } from 'vitest';
import { createInvokeHandlers, registerContract, senderRejection, type InvokeRegistry, type SenderInfo } from '../../electron/ipc.ts';
import { buildBridge, subscriptionName } from '../../electron/bridge.ts';
import { API_EVENTS, API_METHODS, eventSubscriptionName } from '../../core/api/contract.ts';
import { ApiError } from '../../core/api/errors.ts';

/** A small contract of async methods, standing in for LooktwiceApi's shape. */
interface CalculatorApi {
  add(params: { a: number; b: number }): Promise<number>;
  divide(params: { a: number; b: number }): Promise<number>;
  describe(): Promise<{ name: string; values: Float32Array }>;
}
const CALCULATOR_METHODS = ['add', 'divide', 'describe'] as const;

class Calculator implements CalculatorApi {
  readonly name = 'calc';
  async add({ a, b }: { a: number; b: number }) {
    return a + b;
  }
  async divide({ a, b }: { a: number; b: number }) {
    if (b === 0) throw new ApiError('invalid', 'Cannot divide by zero.');
    return a / b;
  }
  // Uses `this`, so the helper must call methods on their object.
  async describe() {
    return { name: this.name, values: new Float32Array([1, 2]) };
  }
}

const WINDOW_ID = 7;
const policy = { trustedWebContentsIds: () => [WINDOW_ID] };
function event(overrides: { id?: number; url?: string; subframe?: boolean; noFrame?: boolean } = {}): SenderInfo {
  const url = overrides.url ?? 'looktwice://app/index.html';
  const top = { url: 'looktwice://app/index.html', parent: null };
  return {
    sender: { id: overrides.id ?? WINDOW_ID },
    senderFrame: overrides.noFrame ? null : overrides.subframe ? { url, parent: top } : { url, parent: null },
  };
}

describe('senderRejection', () => {
  it('accepts the main frame of our window on the app scheme', () => {
    expect(senderRejection(event(), policy)).toBeNull();
    expect(senderRejection(event({ url: 'looktwice://app/index.html#/map?x=1' }), policy)).toBeNull();
  });

  it.each([
    ['another webContents', event({ id: 8 }), /not a Looktwice window/],
    ['a subframe', event({ subframe: true }), /subframe/],
    ['a destroyed frame', event({ noFrame: true }), /gone/],
    ['a web page', event({ url: 'https://evil.example/' }), /not part of the app/],
    ['a file page', event({ url: 'file:///etc/passwd' }), /not part of the app/],
    ['another host of our scheme', event({ url: 'looktwice://thumbnails/x' }), /not part of the app/],
    ['a look-alike scheme', event({ url: 'looktwice-evil://app/index.html' }), /not part of the app/],
    ['a malformed URL', event({ url: 'not a url' }), /no valid URL/],
  ])('refuses %s', (_name, sender, reason) => {
    expect(senderRejection(sender, policy)).toMatch(reason);
  });

  it('reads the trusted ids at call time (a window opened later is trusted, a closed one is not)', () => {
    const ids = new Set<number>();
    const live = { trustedWebContentsIds: () => ids };
    expect(senderRejection(event(), live)).not.toBeNull();
    ids.add(WINDOW_ID);
    expect(senderRejection(event(), live)).toBeNull();
    ids.delete(WINDOW_ID);
    expect(senderRejection(event(), live)).not.toBeNull();
  });
});

describe('createInvokeHandlers', () => {
  it('registers exactly one channel per method, named looktwice:<method>', () => {
    const handlers = createInvokeHandlers<CalculatorApi>(CALCULATOR_METHODS, new Calculator(), { policy });
    expect([...handlers.keys()]).toEqual(['looktwice:add', 'looktwice:divide', 'looktwice:describe']);
  });

  it('calls the implementation and wraps values, keeping typed arrays and `this`', async () => {
    const handlers = createInvokeHandlers<CalculatorApi>(CALCULATOR_METHODS, new Calculator(), { policy });
    expect(await handlers.get('looktwice:add')!(event(), { a: 2, b: 3 })).toEqual({ ok: true, value: 5 });
    const described = await handlers.get('looktwice:describe')!(event());
    expect(described).toEqual({ ok: true, value: { name: 'calc', values: new Float32Array([1, 2]) } });
  });

  it('returns errors as data with name, message and the API error code', async () => {
    const handlers = createInvokeHandlers<CalculatorApi>(CALCULATOR_METHODS, new Calculator(), { policy });
    expect(await handlers.get('looktwice:divide')!(event(), { a: 1, b: 0 })).toEqual({
      ok: false,
      error: { name: 'ApiError', code: 'invalid', message: 'Cannot divide by zero.' },
    });
  });

  it('refuses an untrusted sender without calling the implementation', async () => {
    let calls = 0;
    const api = { add: async () => ++calls };
    const refused: string[] = [];
    const handlers = createInvokeHandlers<typeof api>(['add'], api, { policy, onRejected: (channel, reason) => refused.push(`${channel}: ${reason}`) });
    const result = await handlers.get('looktwice:add')!(event({ url: 'https://evil.example/' }));
    expect(result).toMatchObject({ ok: false, error: { name: 'SecurityError' } });
    expect(calls).toBe(0);
    expect(refused).toEqual(['looktwice:add: the page https://evil.example/ is not part of the app']);
  });

  it('fails at start-up when a listed method is missing or listed twice', () => {
    const partial = { add: async () => 1 } as unknown as CalculatorApi;
    expect(() => createInvokeHandlers<CalculatorApi>(CALCULATOR_METHODS, partial, { policy })).toThrow(/no method "divide"/);
    expect(() => createInvokeHandlers<CalculatorApi>(['add', 'add'], new Calculator(), { policy })).toThrow(/listed twice/);
  });

  it('uses the given prefix for desktop-only helpers', () => {
    const shell = { pickFolder: async () => null };
    expect([...createInvokeHandlers<typeof shell>(['pickFolder'], shell, { policy, prefix: 'looktwice-shell:' }).keys()]).toEqual(['looktwice-shell:pickFolder']);
  });
});

describe('registerContract', () => {
  it('hands every handler to the registry and removes them all on dispose', async () => {
    // A Map-backed registry with ipcMain's handle/removeHandler signatures: the real ipcMain
    // needs the Electron binary, which cannot be installed here.
    const registered = new Map<string, (event: never, ...args: unknown[]) => unknown>();
    const registry = {
      handle: (channel: string, listener: (event: never, ...args: unknown[]) => unknown) => {
        if (registered.has(channel)) throw new Error(`second handler for ${channel}`);
        registered.set(channel, listener);
      },
      removeHandler: (channel: string) => {
        registered.delete(channel);
      },
    } as unknown as InvokeRegistry;
    const dispose = registerContract<CalculatorApi>(registry, CALCULATOR_METHODS, new Calculator(), { policy });
    expect([...registered.keys()]).toEqual(['looktwice:add', 'looktwice:divide', 'looktwice:describe']);
    expect(await registered.get('looktwice:add')!(event() as never, { a: 1, b: 1 })).toEqual({ ok: true, value: 2 });
    dispose();
    expect(registered.size).toBe(0);
  });
});

describe('bridge ↔ handlers round trip', () => {
  function connect(sender: SenderInfo = event()) {
    const handlers = createInvokeHandlers<CalculatorApi>(CALCULATOR_METHODS, new Calculator(), { policy });
    let deliver: (name: string, payload: unknown) => void = () => {};
    const bridge = buildBridge(CALCULATOR_METHODS, ['progress', 'job'], {
      invoke: (channel, ...args) => handlers.get(channel)!(sender, ...args),
      onEvent: (listener) => {
        deliver = listener;
      },
    }) as unknown as CalculatorApi & Record<string, (listener: (payload: unknown) => void) => () => void>;
    return { bridge, emit: (name: string, payload: unknown) => deliver(name, payload) };
  }

  it('returns values and rethrows errors with their message, name and code', async () => {
    const { bridge } = connect();
    expect(await bridge.add({ a: 40, b: 2 })).toBe(42);
    const error = await bridge.divide({ a: 1, b: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'ApiError', message: 'Cannot divide by zero.', code: 'invalid' });
  });

  it('turns a refused sender into a rejected call', async () => {
    const { bridge } = connect(event({ subframe: true }));
    await expect(bridge.add({ a: 1, b: 1 })).rejects.toThrow(/subframe/);
  });

  it('delivers events to each subscription until it unsubscribes; a throwing listener does not stop others', () => {
    const { bridge, emit } = connect();
    const seen: unknown[] = [];
    const record = (payload: unknown) => seen.push(payload);
    const first = bridge.onProgress!(record);
    bridge.onProgress!(record);
    bridge.onJob!(() => {
      throw new Error('listener bug');
    });
    const jobs: unknown[] = [];
    bridge.onJob!((payload) => jobs.push(payload));
    emit('progress', { done: 1 });
    emit('job', { jobId: 'x' });
    emit('unknown', {});
    first();
    emit('progress', { done: 2 });
    expect(seen).toEqual([{ done: 1 }, { done: 1 }, { done: 2 }]);
    expect(jobs).toEqual([{ jobId: 'x' }]);
  });
});

describe('the bridge built from the real contract', () => {
  it('has exactly the keys of LooktwiceBridge: every method, every onX, and the URL builders', () => {
    const bridge = buildBridge(API_METHODS, API_EVENTS, { invoke: async () => ({ ok: true, value: null }), onEvent: () => {} });
    const expected = [...API_METHODS, ...API_EVENTS.map((name) => eventSubscriptionName(name)), 'thumbnailUrl', 'imageUrl'];
    expect(Object.keys(bridge).sort()).toEqual(expected.sort());
    for (const name of API_EVENTS) expect(subscriptionName(name)).toBe(eventSubscriptionName(name));
    for (const value of Object.values(bridge)) expect(typeof value).toBe('function');
  });
});
