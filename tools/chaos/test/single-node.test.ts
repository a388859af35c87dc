// The chaos suite on the single-node stack. One exchange (2 web instances, 2 workers, the
// production builds) takes signed gate.io traffic from several API keys while components are
// killed with SIGKILL one after another, then in pairs. After each: every acknowledged order
// exists once and settled, balances match the fills, the ledger reconciles; the time to
// recover is printed and written to chaos-recovery.json. It kills the stack's own servers, so
// it needs the stack's PostgreSQL, Redis, etcd and Kafka (not ones named by the environment).
import { createTraderKeys, createTraders } from "@spotx/bench/src/trader-accounts";
import { up } from "@spotx/stack/stack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChaosExchange } from "../src/exchange";
import { writeRecoveryResults } from "../src/results";
import { type FaultResult, killScenario, recoveryLine, warmUp } from "../src/scenarios";
import { type Component, SingleNodeTarget } from "../src/target";
import { Traffic } from "../src/traffic";

const SETTINGS = {
  webs: 2,
  workers: 2,
  // A killed worker's markets move once Kafka drops it from the group (its 6 s session) and its
  // etcd lease has expired: the default 5 s lease stays off that path, and outlives an etcd
  // restart, so the etcd fault tests a restart rather than every worker losing its markets.
  workerLeaseTtlSeconds: 5,
  traders: 6,
  paceMs: 100,
  cancelEvery: 3,
};

let exchange: ChaosExchange;
let traffic: Traffic;
let target: SingleNodeTarget;
const results: FaultResult[] = [];

beforeAll(async () => {
  const started = Date.now();
  await up(() => undefined);
  exchange = await ChaosExchange.start(SETTINGS);
  const apps = [...exchange.webs, ...exchange.workers].map((a) => `${a.id} ${a.startMs} ms`);
  console.info(`chaos exchange up in ${Date.now() - started} ms (${apps.join(", ")})`);
  const traders = await createTraders(exchange.db, SETTINGS.traders);
  traffic = new Traffic({
    db: exchange.db,
    traders: await createTraderKeys(exchange.db, exchange.serverKey, traders),
    urls: () => exchange.webUrls(),
    paceMs: SETTINGS.paceMs,
    cancelEvery: SETTINGS.cancelEvery,
  });
  target = new SingleNodeTarget(exchange, { requestSent: (url) => traffic.nextRequestTo(url) });
  await warmUp(traffic);
}, 120_000);

afterAll(async () => {
  const started = Date.now();
  await traffic?.stop();
  traffic?.close();
  // Whatever happened, every server of the stack runs again for the suites after this one.
  await up(() => undefined);
  await exchange?.stop();
  console.info(`chaos exchange stopped in ${Date.now() - started} ms`);
  if (results.length > 0) {
    const file = writeRecoveryResults(target.name, SETTINGS, results);
    console.info(`chaos recovery times written to ${file}`);
  }
}, 120_000);

/** Runs one fault and checks what holds after any fault. */
async function survive(components: Component[]): Promise<FaultResult> {
  const result = await killScenario(components)(exchange, target, traffic);
  results.push(result);
  console.info(
    `${recoveryLine(result)}\n  answered meanwhile: ${JSON.stringify(result.answers)}\n  phases: ${JSON.stringify(result.phasesMs)}`,
  );
  expect(result.casualties, "processes that died without being killed").toEqual([]);
  expect(result.findings).toEqual([]);
  expect(result.firstSettledMs).not.toBeNull();
  // Whatever was down, nothing was ever answered as an internal error: outages are labelled.
  expect(Object.keys(result.answers).filter((answer) => / 500 /.test(answer))).toEqual([]);
  return result;
}

/** The answers to order placements from the kill until traffic was normal, by status and label. */
function placements(result: FaultResult): Record<string, number> {
  return Object.fromEntries(
    Object.entries(result.answers)
      .filter(([answer]) => answer.startsWith("place "))
      .map(([answer, n]) => [answer.slice("place ".length), n]),
  );
}

describe("kill -9 under signed trading traffic, one component after another", () => {
  it("a worker owning markets: the other worker takes them over; placing never stops", {
    timeout: 120_000,
  }, async () => {
    const result = await survive(["worker"]);
    // Placement needs only PostgreSQL: every order sent meanwhile was acked at once.
    expect(Object.keys(placements(result))).toEqual(["201 OK"]);
  });

  it("a web instance mid-request: its traders move to the other, no order is placed twice", {
    timeout: 120_000,
  }, async () => {
    const result = await survive(["web"]);
    expect(result.cutRequests, "requests cut by the kill").toBeGreaterThan(0);
  });

  it("the Kafka broker: orders are acked into the outbox meanwhile and settle once it is back", {
    timeout: 120_000,
  }, async () => {
    const result = await survive(["kafka"]);
    expect(Object.keys(placements(result))).toEqual(["201 OK"]);
  });

  it("etcd: trading goes on", { timeout: 120_000 }, async () => {
    const result = await survive(["etcd"]);
    expect(Object.keys(placements(result))).toEqual(["201 OK"]);
  });

  it("Redis: requests are refused 503 SERVICE_UNAVAILABLE while it is down, then trading resumes", {
    timeout: 120_000,
  }, async () => {
    const result = await survive(["redis"]);
    expect(placements(result)["503 SERVICE_UNAVAILABLE"]).toBeGreaterThan(0);
    for (const answer of Object.keys(placements(result))) {
      expect(answer).toMatch(/^(201 OK|503 SERVICE_UNAVAILABLE)$/);
    }
  });

  it("PostgreSQL: orders are refused 503 SERVICE_UNAVAILABLE while it is down, none half-placed", {
    timeout: 120_000,
  }, async () => {
    const result = await survive(["postgres"]);
    expect(placements(result)["503 SERVICE_UNAVAILABLE"]).toBeGreaterThan(0);
    for (const answer of Object.keys(placements(result))) {
      expect(answer).toMatch(/^(201 OK|503 SERVICE_UNAVAILABLE)$/);
    }
  });

  it("a worker and a web instance together", { timeout: 120_000 }, async () => {
    await survive(["worker", "web"]);
  });

  it("Redis and a worker together", { timeout: 120_000 }, async () => {
    await survive(["redis", "worker"]);
  });
});
