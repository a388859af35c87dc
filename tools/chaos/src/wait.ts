// Awaiting a condition with a deadline: the harness never sleeps where it can watch.

/**
 * Calls `check` until it returns something other than null, undefined or false (errors count as
 * "not yet"), or fails after the timeout naming what it waited for and the last error.
 */
export async function waitFor<T>(
  check: () => Promise<T | null | undefined | false>,
  options: { what: string; timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== null && value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${options.timeoutMs} ms waiting for ${options.what}${last instanceof Error ? ` (last error: ${last.message})` : ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}
