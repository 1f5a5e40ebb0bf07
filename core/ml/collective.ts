/**
 * Collective operations between the replicas of a data-parallel training step, over shared memory
 * (SharedArrayBuffer + Atomics) rather than messages: every replica runs the same sequence of
 * collectives synchronously inside its taped step, so a replica can wait for the others in the
 * middle of a forward or backward pass (tfjs's gradient functions are synchronous; a message
 * would need the event loop).
 *
 *  - barrier: a generation-counting barrier (each arrival increments a counter; the last one
 *    resets it and bumps the generation, waking the rest).
 *  - allGather / allReduceSum: each replica writes its float64 values into its slot of a
 *    double-buffered exchange area, passes the barrier, and reads every slot in replica order, so
 *    all replicas compute bit-identical sums. Two areas alternate by call parity: a replica can
 *    only write the area of call k + 2 after every replica has passed the barrier of call k + 1,
 *    i.e. after it has finished reading call k.
 */

/** The shared memory of one group of replicas (structured-clone safe: plain SharedArrayBuffers). */
export interface CollectiveMemory {
  replicas: number;
  /** Float64 values per replica slot. */
  slotLength: number;
  /** [count, generation] for the barrier. */
  control: SharedArrayBuffer;
  /** Float64 [2 areas][replicas][slotLength]. */
  exchange: SharedArrayBuffer;
}

/** Allocates the shared memory for `replicas` replicas exchanging up to `slotLength` float64 each. */
export function createCollectiveMemory(replicas: number, slotLength: number): CollectiveMemory {
  if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`collective: replicas must be a positive integer, got ${replicas}`);
  return {
    replicas,
    slotLength,
    control: new SharedArrayBuffer(8),
    exchange: new SharedArrayBuffer(2 * replicas * slotLength * 8),
  };
}

/** A replica's handle on the group's shared memory. */
export class Collective {
  private readonly control: Int32Array;
  private readonly exchange: Float64Array;
  private calls = 0;

  constructor(readonly memory: CollectiveMemory, readonly rank: number) {
    if (!(rank >= 0 && rank < memory.replicas)) throw new Error(`collective: rank ${rank} outside 0..${memory.replicas - 1}`);
    this.control = new Int32Array(memory.control);
    this.exchange = new Float64Array(memory.exchange);
  }

  get replicas(): number {
    return this.memory.replicas;
  }

  /** Returns when every replica has called it (as often as this one). */
  barrier(): void {
    const replicas = this.memory.replicas;
    if (replicas === 1) return;
    const generation = Atomics.load(this.control, 1);
    if (Atomics.add(this.control, 0, 1) === replicas - 1) {
      Atomics.store(this.control, 0, 0);
      Atomics.add(this.control, 1, 1);
      Atomics.notify(this.control, 1);
      return;
    }
    // A short spin first: replicas doing the same work arrive close together, and a futex wait
    // costs tens of microseconds per wake-up.
    for (let spin = 0; spin < 2000; spin++) if (Atomics.load(this.control, 1) !== generation) return;
    while (Atomics.load(this.control, 1) === generation) Atomics.wait(this.control, 1, generation, 1000);
  }

  /** Every replica's `values` (same length on all), as views valid until the call after next. */
  allGather(values: Float64Array): Float64Array[] {
    const { replicas, slotLength } = this.memory;
    if (values.length > slotLength) throw new Error(`collective: ${values.length} values exceed the slot of ${slotLength}`);
    const area = (this.calls++ % 2) * replicas * slotLength;
    this.exchange.set(values, area + this.rank * slotLength);
    this.barrier();
    return Array.from({ length: replicas }, (_, r) => this.exchange.subarray(area + r * slotLength, area + r * slotLength + values.length));
  }

  /** Replaces `values` by their elementwise sum over the replicas (in replica order: identical everywhere). */
  allReduceSum(values: Float64Array): void {
    const slots = this.allGather(values);
    values.fill(0);
    for (const slot of slots) for (let i = 0; i < values.length; i++) values[i]! += slot[i]!;
  }
}
