// Loads that many concurrent callers share. A cache that expires under load — the markets every
// order request reads, an API key every signed request needs — must be read again ONCE, not by
// every request that arrives while the first read is on its way: those reads queue for the same
// pool connections, each makes the next slower, and a busy web server ends up spending its time
// re-reading what it just read (measured: the gate.io front door at 1,000 orders/s fell behind to
// 400/s with 25 s answers, its pool queue full of market and key reads).
//
//   const markets = new Refreshing(() => loadMarkets(db), 2_000);
//   const m = await markets.get();           // at most one load in flight, one per 2 s
//   const k = await keys.get(name, () => readKey(name));

/** A value loaded at most once per `ttlMs`, however many callers ask while it loads. */
export class Refreshing<T> {
  private kept: { value: T; at: number } | null = null;
  private loading: Promise<T> | null = null;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The kept value while it is younger than `ttlMs` (and `fresh` is not asked); otherwise the
   * load in flight, or a new one. A value is as old as the moment its load started.
   */
  get(options: { fresh?: boolean } = {}): Promise<T> {
    const kept = this.kept;
    if (!options.fresh && kept && this.now() - kept.at < this.ttlMs) {
      return Promise.resolve(kept.value);
    }
    if (this.loading) return this.loading;
    const at = this.now();
    const loading = this.load().then(
      (value) => {
        this.kept = { value, at };
        this.loading = null;
        return value;
      },
      (error: unknown) => {
        this.loading = null;
        throw error;
      },
    );
    this.loading = loading;
    return loading;
  }

  /** Forgets the kept value; a load in flight is no longer shared with later callers. */
  clear(): void {
    this.kept = null;
    this.loading = null;
  }
}

/** Concurrent loads of the same key share one promise (nothing is kept once it settles). */
export class SingleFlight<K, V> {
  private readonly loading = new Map<K, Promise<V>>();

  /** The load of `key` in flight, or `load()` started now. */
  run(key: K, load: () => Promise<V>): Promise<V> {
    const running = this.loading.get(key);
    if (running) return running;
    const started = load().finally(() => {
      if (this.loading.get(key) === started) this.loading.delete(key);
    });
    this.loading.set(key, started);
    return started;
  }

  /** Later callers start their own loads (those in flight still answer their callers). */
  clear(): void {
    this.loading.clear();
  }
}
