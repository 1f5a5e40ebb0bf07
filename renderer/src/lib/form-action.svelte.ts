/**
 * One form's action on the engine (import an encoder, export embeddings, …): busy while it runs,
 * then the message it ends with or the reason it failed, shown by ActionResult.svelte. A success
 * also toasts and refreshes the library, since every such action changes what it holds.
 */
import { errorMessage } from './api.ts';
import { refreshLibrary, toast } from './app-state.svelte.ts';

/** What an action ends with: its message, or the message and a shorter toast. */
export type ActionOutcome = string | { message: string; toast: string };

/** The state of one form's action; `busy` disables its buttons while one runs. */
export class FormAction {
  busy = $state(false);
  message = $state<string | null>(null);
  failure = $state<string | null>(null);

  /** Runs `work`, clearing the previous outcome first; true when it succeeded. */
  async run(work: () => Promise<ActionOutcome>): Promise<boolean> {
    this.busy = true;
    this.failure = null;
    this.message = null;
    try {
      const outcome = await work();
      this.message = typeof outcome === 'string' ? outcome : outcome.message;
      toast('success', typeof outcome === 'string' ? outcome : outcome.toast);
      await refreshLibrary();
      return true;
    } catch (error) {
      this.failure = errorMessage(error);
      return false;
    } finally {
      this.busy = false;
    }
  }
}
