// Group commit: callers arriving within about a millisecond of each other are written together
// by one commit — a statement or a transaction of a few set-based statements — and each is
// still answered with its own outcome. Throughput then grows with load (batches get larger)
// instead of being bounded by one commit's round trips and fsync per caller.

export type GroupCommitOptions = {
  /** How long the first caller of a batch waits for others. */
  windowMs?: number;
  maxBatch?: number;
  /** Batches committing at once (each on its own connection); default 2. */
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
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private readonly windowMs: number;
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
    this.windowMs = options.windowMs ?? 1;
    this.maxBatch = options.maxBatch ?? 200;
    this.maxConcurrent = options.maxConcurrent ?? 2;
  }

  submit(input: In): Promise<Out> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.schedule();
    });
  }

  private schedule() {
    if (this.queue.length === 0 || this.inFlight >= this.maxConcurrent) return;
    if (this.queue.length >= this.maxBatch) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.windowMs);
  }

  private async flush() {
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    this.inFlight += 1;
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
      this.schedule();
    }
  }
}
