// The result shape every dependency check returns, so /ready, the stack tool and the
// operator console report servers the same way.
export type ProbeResult =
  | { ok: true; latencyMs: number; detail?: string }
  | { ok: false; latencyMs: number; error: string };

/** Runs a check with a deadline; any throw or timeout becomes a failed result with its cause. */
export async function probe(
  check: (signal: AbortSignal) => Promise<string | undefined>,
  timeoutMs: number,
): Promise<ProbeResult> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    const detail = await Promise.race([check(controller.signal), timeout]);
    const latencyMs = Math.round(performance.now() - started);
    return detail === undefined ? { ok: true, latencyMs } : { ok: true, latencyMs, detail };
  } catch (error) {
    return {
      ok: false,
      latencyMs: Math.round(performance.now() - started),
      error: describeError(error),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** One line a person can act on, from whatever a client library threw. */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return describeError(error.errors[0]);
  }
  if (error instanceof Error) {
    const code = "code" in error && typeof error.code === "string" ? `${error.code}: ` : "";
    const message = error.message || error.name;
    return message.startsWith(code) ? message : `${code}${message}`;
  }
  return String(error);
}

/** Memoises one instance per process, shared across bundles that each include this module. */
export function processSingleton<T>(key: string, create: () => T): T {
  const slot = Symbol.for(`spotx.${key}`);
  const store = globalThis as unknown as Record<symbol, T | undefined>;
  const existing = store[slot];
  if (existing !== undefined) return existing;
  const created = create();
  store[slot] = created;
  return created;
}
