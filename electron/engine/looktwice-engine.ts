/**
 * Binds the real service (core/api/service.ts) to the engine protocol: every contract method,
 * the media lookups the protocol handler needs, event forwarding, and stop = cancel every running
 * job and wait (training checkpoints on cancel) — see runtime.ts.
 */
import { API_METHODS } from '../../core/api/contract.ts';
import { toErrorPayload } from '../../core/api/errors.ts';
import { LooktwiceService } from '../../core/api/service.ts';
import type { WireError } from '../channels.ts';
import type { MediaFile, MediaRefusal } from '../protocol.ts';
import type { EngineService } from './runtime.ts';

/** The main-only methods, called by main as `internal:<name>`. */
export interface EngineInternals {
  thumbnail(hash: string): Promise<MediaFile | null>;
  image(hash: string): Promise<MediaFile | MediaRefusal | null>;
}

/** Opens the library at `dbPath` and wraps it as an EngineService. */
export function createLooktwiceEngine(dbPath: string): EngineService {
  const service = LooktwiceService.open(dbPath);
  const internal: EngineInternals = {
    thumbnail: async (hash) => {
      const filePath = await service.thumbnailFile(hash);
      return filePath === null ? null : { filePath };
    },
    image: async (hash) => {
      // The checked bytes travel to the protocol handler: the file is not opened twice.
      const file = await service.imageFile(hash);
      if (file === null) return null;
      return 'refused' in file ? { refused: file.refused } : { filePath: file.path, mimeType: file.contentType, bytes: file.bytes };
    },
  };
  return {
    api: service,
    methods: API_METHODS,
    internal: internal as unknown as EngineService['internal'],
    onAnyEvent: (listener) => service.events.onAny((name, payload) => listener(name, payload)),
    stopAll: async () => {
      const running = service.jobs.running().map((job) => job.jobId);
      await service.jobs.cancelAll();
      return running;
    },
    close: () => {
      if (service.library.db.open) service.library.close();
    },
  };
}

/** Errors as the contract describes them: an ApiErrorCode and a message a user understands. */
export function toContractError(error: unknown): WireError {
  const payload = toErrorPayload(error);
  return { name: 'ApiError', code: payload.code, message: payload.message };
}
