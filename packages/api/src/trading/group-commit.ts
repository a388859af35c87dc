// Group commit: callers waiting while a batch commits are written together by the next commit —
// a statement or a transaction of a few set-based statements — and each is still answered with
// its own outcome. There is no timer: when nothing is committing, a caller's batch leaves at the
// end of the current event-loop turn (with whoever arrived in that turn); while a batch is
// committing, arrivals queue and leave together when it is done. Batches therefore grow with
// load — one caller alone waits for nothing, a thousand a second share a few commits — and the
// fixed cost of a commit (a round trip, a WAL flush) is paid per batch, not per caller.

export type GroupCommitOptions = {
  maxBatch?: number;
  /** Batches committing at once (each on its own connection); default 1. */
  maxConcurrent?: number;
};

/** One caller's outcome of a batch: its value, or the error it alone is answered with. */
export type Outcome<Out> = { ok: true; value: Out } | { ok: false; error: unknown };

type Waiting<In, Out> = {
  input: In;
  resolve: (value: Out) => void;
  reject: (error: unknown) => void;
};

export class GroupCommit<In, Out> {
  private queue: Waiting<In, Out>[] = [];
  private scheduled = false;
  private inFlight = 0;
  private readonly maxBatch: number;
  private readonly maxConcurrent: number;

  /**
   * `commit` writes a batch and returns one outcome per input, in input order; if it throws,
   * every caller of the batch gets that error.
   */
  constructor(
    private readonly commit: (inputs: In[]) => Promise<Outcome<Out>[]>,
    options: GroupCommitOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 200;
    this.maxConcurrent = options.maxConcurrent ?? 1;
  }

  /** Batches committing now (for tests and metrics). */
  get committing(): number {
    return this.inFlight;
  }

  submit(input: In): Promise<Out> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.schedule();
    });
  }

  private schedule() {
    if (this.scheduled || this.queue.length === 0 || this.inFlight >= this.maxConcurrent) return;
    // The rest of this turn's callers join: setImmediate runs after the I/O callbacks that
    // delivered them (several requests parsed from one socket read, one tRPC batch).
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush() {
    while (this.queue.length > 0 && this.inFlight < this.maxConcurrent) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight += 1;
      void this.run(batch);
    }
  }

  private async run(batch: Waiting<In, Out>[]) {
    try {
      const outcomes = await this.commit(batch.map((w) => w.input));
      batch.forEach((waiting, i) => {
        const outcome = outcomes[i];
        if (!outcome) waiting.reject(new Error("a batch returned fewer outcomes than inputs"));
        else if (outcome.ok) waiting.resolve(outcome.value);
        else waiting.reject(outcome.error);
      });
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    } finally {
      this.inFlight -= 1;
      // What queued meanwhile leaves now, as one batch: no reason to wait another turn.
      this.flush();
    }
  }
}
