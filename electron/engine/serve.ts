/**
 * Runs an EngineService in the current process, speaking the engine protocol with its parent:
 * over `process.parentPort` inside an Electron utilityProcess, or over Node's IPC channel
 * (`process.send`) when forked by child_process (the tests, and `node` debugging).
 * After `stopped` is sent the service is closed and the process exits.
 */
import type { EngineMessage } from './messages.ts';
import { EngineRuntime, type EngineService, type RuntimeOptions } from './runtime.ts';

interface ParentChannel {
  post(message: EngineMessage): void;
  onMessage(listener: (raw: unknown) => void): void;
}

function parentChannel(): ParentChannel {
  const parentPort = (process as { parentPort?: Electron.ParentPort }).parentPort;
  if (parentPort) {
    return {
      post: (message) => parentPort.postMessage(message),
      onMessage: (listener) => parentPort.on('message', (event) => listener(event.data)),
    };
  }
  if (typeof process.send === 'function') {
    return {
      post: (message) => process.send?.(message),
      onMessage: (listener) => process.on('message', listener),
    };
  }
  throw new Error('the engine must be started by Looktwice (no parent port or IPC channel)');
}

/** Creates the service (reporting a failure as `fatal`) and serves it until stopped. */
export async function serveEngine(createService: () => Promise<EngineService>, options: RuntimeOptions = {}): Promise<void> {
  const channel = parentChannel();
  let service: EngineService;
  try {
    service = await createService();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    channel.post({ type: 'fatal', error: { name: 'Error', message: `the engine could not start: ${message}` } });
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100);
    return;
  }
  const runtime = new EngineRuntime(service, (message) => channel.post(message), options);
  channel.onMessage((raw) => {
    void runtime.receive(raw).then(() => {
      if (typeof raw === 'object' && raw !== null && (raw as { type?: unknown }).type === 'stop') {
        service.close();
        // Give the 'stopped' message a moment to flush, then leave (GPU handles keep Node alive).
        setTimeout(() => process.exit(0), 50);
      }
    });
  });
  runtime.announceReady();
}
