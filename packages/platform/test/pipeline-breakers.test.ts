// The worker's pipeline breakers (settlement's PostgreSQL, market data's Redis), against real
// peers — the stack's PostgreSQL, and a port nobody listens on: while closed they change nothing
// (a slow call is never cut short, a failed call's own error reaches the caller), an answer
// PostgreSQL gave (a division by zero, the ledger's refusal) does not count against the server,
// and when the server is gone the breaker opens, refuses at once, and exports its state and the
// time of that transition — the gauges the console's guards page reads from every instance.
import net from "node:net";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DependencyBreaker, ServiceUnavailableError } from "../src/breakers";
import { platformEnv } from "../src/env";
import { metrics } from "../src/metrics";

let refusingPort: number;
const made: DependencyBreaker[] = [];
const pool = new pg.Pool({ connectionString: platformEnv().DATABASE_URL, max: 2 });

beforeAll(async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  refusingPort = typeof address === "object" && address ? address.port : 0;
});
afterEach(() => {
  for (const b of made.splice(0)) b.shutdown();
});
afterAll(async () => {
  await pool.end();
});

/** A pipeline breaker as `pipelineBreakers.postgres` is made, with a test's thresholds. */
function pipelineBreaker(options: { volumeThreshold: number; resetMs?: number }) {
  const created = new DependencyBreaker("postgres", {
    keepCallErrors: true,
    resetMs: options.resetMs ?? 60_000,
    volumeThreshold: options.volumeThreshold,
  });
  made.push(created);
  return created;
}

/** A connection attempt to a PostgreSQL that is not there. */
async function connectToNobody(): Promise<void> {
  const client = new pg.Client({ host: "127.0.0.1", port: refusingPort, user: "x", database: "x" });
  try {
    await client.connect();
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function rejection(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => new Error("the call succeeded"),
    (error: unknown) => error,
  );
}

async function gauge(name: string, dependency: string): Promise<number | undefined> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  return metric?.values.find((v) => v.labels.dependency === dependency)?.value;
}

describe("a pipeline breaker", () => {
  it("lets a slow call finish, with no timeout of its own", async () => {
    const b = pipelineBreaker({ volumeThreshold: 1 });
    expect(b.settings.timeoutMs).toBe(0);
    // Longer than any request breaker's timeout would allow PostgreSQL (none is 0 there).
    const result = await b.run(() => pool.query<{ n: number }>("SELECT pg_sleep(1.2), 7 AS n"));
    expect(result.rows[0]?.n).toBe(7);
    expect(b.snapshot().totals).toMatchObject({ calls: 1, failures: 0, timeouts: 0 });
  });

  it("does not count PostgreSQL's answers, nor the ledger's refusals and invariant breaks", async () => {
    const b = pipelineBreaker({ volumeThreshold: 1 });
    const division = await rejection(b.run(() => pool.query("SELECT 1 / 0")));
    expect(division).toMatchObject({ code: "22012" }); // the driver's own error, unchanged
    const refusal = Object.assign(new Error("sequence gap"), { label: "SEQUENCE_GAP" });
    expect(await rejection(b.run(() => Promise.reject(refusal)))).toBe(refusal);
    const invariant = new Error("ledger invariant broken: debits and credits differ");
    expect(await rejection(b.run(() => Promise.reject(invariant)))).toBe(invariant);
    expect(b.currentState).toBe("closed");
    expect(b.snapshot().totals.failures).toBe(0);
  });

  it("passes an unreachable server's error through while closed, then opens and refuses at once", async () => {
    const b = pipelineBreaker({ volumeThreshold: 2 });
    for (let i = 0; i < 2; i += 1) {
      const error = await rejection(b.run(connectToNobody));
      expect(error).not.toBeInstanceOf(ServiceUnavailableError);
      expect(error).toMatchObject({ code: "ECONNREFUSED" });
    }
    expect(b.currentState).toBe("open");
    let invoked = 0;
    const refused = await rejection(
      b.run(async () => {
        invoked += 1;
      }),
    );
    expect(refused).toBeInstanceOf(ServiceUnavailableError);
    expect(refused).toMatchObject({ dependency: "postgres", label: "SERVICE_UNAVAILABLE" });
    expect(invoked).toBe(0);

    // What /metrics shows: open, and when it opened (the snapshot's transition time).
    const opened = b.snapshot().lastTransition;
    expect(opened).toMatchObject({ from: "closed", to: "open" });
    expect(await gauge("spotx_breaker_state", "postgres")).toBe(2);
    expect(await gauge("spotx_breaker_last_transition_seconds", "postgres")).toBe(
      Date.parse(opened?.at ?? "") / 1000,
    );
  });
});
