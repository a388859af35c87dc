// The chaos suite on the clustered stack: one exchange (2 web instances, 3 workers) on 3 Kafka
// brokers, 3 etcd members, Redis with Sentinel and a PostgreSQL primary with a synchronous
// replica, taking signed gate.io traffic from several API keys while members are killed with
// SIGKILL — the one that matters most for each server — one at a time, then in pairs. After each:
// every acknowledged order exists once and settled, balances match the fills, the ledger
// reconciles; the recovery times are printed and written for `npm run test:cluster` to sum up.
import { createTraderKeys, createTraders } from "@spotx/bench/src/trader-accounts";
import { clusterEnv, clusterUp } from "@spotx/stack/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClusterTarget } from "../src/cluster-target";
import { ChaosExchange } from "../src/exchange";
import { writeRecoveryResults } from "../src/results";
import { type FaultResult, killScenario, recoveryLine } from "../src/scenarios";
import type { Component } from "../src/target";
import { Traffic } from "../src/traffic";
import { recordRecovery } from "./support";

const SETTINGS = {
  webs: 2,
  workers: 3,
  workerLeaseTtlSeconds: 5,
  traders: 6,
  paceMs: 100,
  cancelEvery: 4,
};

let exchange: ChaosExchange;
let traffic: Traffic;
let target: ClusterTarget;
const results: FaultResult[] = [];

beforeAll(async () => {
  await clusterUp(() => undefined);
  const { DATABASE_OWNER_URL, ...servers } = clusterEnv();
  exchange = await ChaosExchange.start({ ...SETTINGS, servers, ownerUrl: DATABASE_OWNER_URL });
  const traders = await createTraders(exchange.db, SETTINGS.traders);
  traffic = new Traffic({
    db: exchange.db,
    traders: await createTraderKeys(exchange.db, exchange.serverKey, traders),
    urls: () => exchange.webUrls(),
    paceMs: SETTINGS.paceMs,
    cancelEvery: SETTINGS.cancelEvery,
  });
  target = new ClusterTarget(exchange, { inFlight: (url) => traffic.inFlight(url) });
}, 300_000);

afterAll(async () => {
  await traffic?.stop();
  traffic?.close();
  await target?.settle();
  await clusterUp(() => undefined);
  await exchange?.stop();
  if (results.length > 0) writeRecoveryResults(target.name, SETTINGS, results);
}, 300_000);

async function survive(components: Component[]): Promise<FaultResult> {
  const victims = await Promise.all(
    components.map((c) => (c === "worker" || c === "web" ? Promise.resolve(c) : target.victim(c))),
  );
  const result = await killScenario(components, { recoverWithinMs: 120_000 })(
    exchange,
    target,
    traffic,
  );
  results.push(result);
  console.info(`${recoveryLine(result)}\n  answered meanwhile: ${JSON.stringify(result.answers)}`);
  recordRecovery({
    fault: `kill -9 ${victims.join(" + ")} under load`,
    ...(result.restoredMs === null ? {} : { promotedMs: result.restoredMs }),
    recoveredMs: result.normalMs,
    note: `first order acked+settled after ${((result.firstSettledMs ?? 0) / 1000).toFixed(1)} s; ${result.ordersDuringOutage.acked}/${result.ordersDuringOutage.sent} acked meanwhile`,
  });
  expect(result.casualties, "processes that died without being killed").toEqual([]);
  expect(result.findings).toEqual([]);
  expect(result.firstSettledMs).not.toBeNull();
  expect(Object.keys(result.answers).filter((answer) => / 500 /.test(answer))).toEqual([]);
  await target.settle();
  return result;
}

const placements = (result: FaultResult) =>
  Object.keys(result.answers)
    .filter((answer) => answer.startsWith("place "))
    .map((answer) => answer.slice("place ".length));

describe("kill -9 on the cluster under signed trading traffic, one at a time", () => {
  it("the Kafka broker leading BTC_USDT's partition: two in-sync replicas go on", {
    timeout: 300_000,
  }, async () => {
    const result = await survive(["kafka"]);
    // Placement needs no broker (the outbox); a refusal can only be a guard's Redis call timing
    // out while the machine is busy restarting the broker's JVM, and is labelled.
    for (const answer of placements(result))
      expect(answer).toMatch(/^(201 OK|503 SERVICE_UNAVAILABLE)$/);
    expect(result.ordersDuringOutage.acked).toBeGreaterThan(0);
  });

  it("the etcd leader: a new one is elected; placements refused 503 at most meanwhile", {
    timeout: 300_000,
  }, async () => {
    const result = await survive(["etcd"]);
    for (const answer of placements(result))
      expect(answer).toMatch(/^(201 OK|503 SERVICE_UNAVAILABLE)$/);
  });

  it("the Redis primary: the Sentinels promote the replica and the apps follow", {
    timeout: 300_000,
  }, async () => {
    await survive(["redis"]);
  });

  it("the PostgreSQL primary: refused with 503 until the replica is promoted, nothing lost", {
    timeout: 300_000,
  }, async () => {
    const result = await survive(["postgres"]);
    for (const answer of placements(result))
      expect(answer).toMatch(/^(201 OK|503 SERVICE_UNAVAILABLE|0 NETWORK_\w+)$/);
  });

  it("a worker owning markets", { timeout: 300_000 }, async () => {
    const result = await survive(["worker"]);
    expect(placements(result)).toEqual(["201 OK"]);
  });

  it("a web instance mid-request", { timeout: 300_000 }, async () => {
    await survive(["web"]);
  });
});

describe("kill -9 on the cluster, in pairs", () => {
  it("the Kafka partition leader and the etcd leader", { timeout: 300_000 }, async () => {
    await survive(["kafka", "etcd"]);
  });

  it("the Redis primary and a worker owning markets", { timeout: 300_000 }, async () => {
    await survive(["redis", "worker"]);
  });

  it("the PostgreSQL primary and a web instance", { timeout: 300_000 }, async () => {
    await survive(["postgres", "web"]);
  });
});
