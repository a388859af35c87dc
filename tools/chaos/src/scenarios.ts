// A fault scenario: under running traffic, kill one or more components at once, let the traffic
// meet the outage, restore the servers as a supervisor would, wait until traffic is back to
// normal (a killed process's work taken over by its peers), start the killed processes again,
// then stop traffic, drain and prove the invariants.
// Scenarios are plain functions of (exchange, target, traffic), so a cluster script runs the
// same ones in a loop against its own target.
import type { ChaosExchange } from "./exchange";
import { checkInvariants, waitDrained } from "./invariants";
import {
  answersBetween,
  baselineOf,
  firstSettledAfter,
  type NormalityOptions,
  normalStretch,
  WARM_UP,
  WINDOW_MS,
} from "./recovery";
import { type Component, type FaultTarget, SERVER_COMPONENTS } from "./target";
import type { Traffic } from "./traffic";
import { waitFor } from "./wait";

export type FaultResult = {
  /** The components killed together, "+"-joined: "worker", "redis+worker". */
  fault: string;
  target: string;
  victims: string[];
  killedAt: string;
  /** kill → the killed servers answering again (null when only processes were killed). */
  restoredMs: number | null;
  /** kill → the first order sent after the kill acked and settled. */
  firstSettledMs: number | null;
  /**
   * kill → traffic back to normal for good: every order from then on acked at once and settled
   * as fast as before the fault (never earlier than `firstSettledMs`).
   */
  normalMs: number;
  /** How long the killed processes took to start again and answer (null when none was killed). */
  rejoinMs: number | null;
  /** The traffic before the kill: its rate, and the latencies a normal order stays within. */
  baseline: { ordersPerSecond: number; ackWithinMs: number; settleWithinMs: number };
  /** What the exchange answered from the kill until traffic was normal: "place 201 OK" → n. */
  answers: Record<string, number>;
  /** Requests sent before the kill that got no answer: cut by it. */
  cutRequests: number;
  /** Orders first sent in that time, and how many were acked. */
  ordersDuringOutage: { sent: number; acked: number };
  /** Stopping traffic → every command published, applied and settled. */
  drainMs: number;
  /** The exchange's processes that died without being killed (with how they ended). */
  casualties: string[];
  /** Broken invariants; empty when every one holds. */
  findings: string[];
  /** Where the scenario's time went: baseline, kill, outage, restore, recovery, rejoin, drain… */
  phasesMs: Record<string, number>;
};

export type Scenario = (
  exchange: ChaosExchange,
  target: FaultTarget,
  traffic: Traffic,
) => Promise<FaultResult>;

export type ScenarioOptions = {
  /** How long traffic must stay normal to count as recovered. */
  stableMs?: number;
  /** The longest a recovery may take before the scenario fails. */
  recoverWithinMs?: number;
  /** Attempts the traffic makes against the outage before the servers are restored. */
  outageAttempts?: number;
};

const APP_COMPONENTS: readonly Component[] = ["worker", "web"];

export function killScenario(
  components: readonly Component[],
  options: ScenarioOptions = {},
): Scenario {
  const stableMs = options.stableMs ?? 1_500;
  const recoverWithinMs = options.recoverWithinMs ?? 60_000;
  const outageAttempts = options.outageAttempts ?? 20;
  const servers = components.filter((c) => SERVER_COMPONENTS.includes(c));
  const apps = components.filter((c) => APP_COMPONENTS.includes(c));
  return async (exchange, target, traffic) => {
    const normalFor = (what: string, from: number, normality: NormalityOptions, ms: number) =>
      waitFor(
        async () => {
          const stretch = normalStretch(traffic, from, Date.now(), normality);
          return stretch !== null && stretch.until - stretch.since >= ms ? stretch : null;
        },
        { what, timeoutMs: recoverWithinMs, intervalMs: 100 },
      );
    const phases: Record<string, number> = {};
    let mark = Date.now();
    const phase = (name: string) => {
      const now = Date.now();
      phases[name] = now - mark;
      mark = now;
    };

    traffic.start();
    const warm = await normalFor(
      "traffic to be normal before the fault",
      Date.now(),
      WARM_UP,
      WINDOW_MS,
    );
    // The pace just before the fault, not the whole stretch: its start may still be warming.
    const normality = baselineOf(traffic, Math.max(warm.since, warm.until - WINDOW_MS), warm.until);
    phase("baseline");

    const killed: Component[] = [];
    let rejoining: Promise<unknown> | undefined;
    try {
      const kills = await Promise.all(
        components.map(async (component) => {
          const record = await target.kill(component);
          killed.push(component);
          return record;
        }),
      );
      const killAt = Math.min(...kills.map((k) => k.at));
      phase("kill");
      let restoredMs: number | null = null;
      if (servers.length > 0) {
        // Let the traders meet the outage before a supervisor would have restarted the server.
        await waitFor(
          async () =>
            traffic.attempts.filter((a) => a.sentAt >= killAt && a.answeredAt > a.sentAt).length >=
            outageAttempts,
          { what: "traffic to meet the outage", timeoutMs: 5_000, intervalMs: 20 },
        ).catch(() => undefined);
        phase("outage");
        await Promise.all(servers.map((component) => target.restore(component)));
        restoredMs = Date.now() - killAt;
        phase("restore");
      }
      const { since: normalAt } = await normalFor(
        `traffic to be normal again after killing ${components.join(" and ")}`,
        killAt,
        normality,
        stableMs,
      );
      phase("recovery");
      const firstSettledMs = firstSettledAfter(traffic, killAt);
      // Orders sent from `normalAt` on were handled as before the fault; it is seen so once the
      // first of them settles, and never before the first order after the kill settled.
      const normalMs = Math.max(normalAt - killAt, firstSettledMs ?? 0);
      const duringOutage = traffic.orders.filter(
        (o) => o.firstSentAt >= killAt && o.firstSentAt < normalAt,
      );

      // The killed processes start again while traffic winds down and the invariants are
      // checked: with no traffic, a worker rejoining the groups (markets may move) adds nothing
      // to settle; the next fault starts once everything is back.
      const rejoinAt = Date.now();
      const rejoin = Promise.all(apps.map((component) => target.restore(component))).then(
        () => Date.now() - rejoinAt,
      );
      rejoining = rejoin;
      killed.splice(0, killed.length, ...killed.filter((c) => !apps.includes(c)));

      await traffic.stop();
      const unsettled = await traffic.settleOutstanding(30_000);
      const drainMs = await waitDrained(exchange, 60_000);
      phase("drain");
      const casualties = exchange.casualties();
      const findings = [
        ...unsettled.map((o) => `${o.text} (${o.orderId}) was acked but never settled`),
        ...(await checkInvariants(exchange.db, traffic.orders, traffic.traderIds)),
      ];
      phase("invariants");
      const rejoinMs = apps.length > 0 ? await rejoin : null;
      for (const app of casualties) await exchange.restart(app);
      phase("rejoin");
      return {
        fault: components.join("+"),
        target: target.name,
        victims: kills.map((k) => k.victim),
        killedAt: new Date(killAt).toISOString(),
        restoredMs,
        firstSettledMs,
        normalMs,
        rejoinMs,
        baseline: {
          ordersPerSecond: Math.round((normality.baselinePerWindow * 1_000) / WINDOW_MS),
          ackWithinMs: normality.ackWithinMs,
          settleWithinMs: normality.settleWithinMs,
        },
        answers: answersBetween(traffic, killAt, normalAt),
        cutRequests: traffic.attempts.filter(
          (a) => a.sentAt < killAt && a.answeredAt >= killAt && a.status === 0,
        ).length,
        ordersDuringOutage: {
          sent: duringOutage.length,
          acked: duringOutage.filter((o) => o.outcome === "acked").length,
        },
        drainMs,
        casualties: casualties.map((app) => `${app.id} exited ${app.exit ?? "?"} (${app.logFile})`),
        findings,
        phasesMs: phases,
      };
    } finally {
      // A scenario that failed half way leaves the next one a whole exchange, traffic stopped.
      await rejoining?.catch(() => undefined);
      for (const component of killed) await target.restore(component).catch(() => undefined);
      for (const app of exchange.casualties()) await exchange.restart(app).catch(() => undefined);
      await traffic.stop();
    }
  };
}

/**
 * Runs the traffic until it has been normal for `ms`, then stops it: a fresh exchange's first
 * seconds (cold code paths, pools filling) would otherwise be the first fault's baseline.
 */
export async function warmUp(traffic: Traffic, ms = 3_000): Promise<void> {
  traffic.start();
  const from = Date.now();
  try {
    await waitFor(
      async () => {
        const stretch = normalStretch(traffic, from, Date.now(), WARM_UP);
        return stretch !== null && stretch.until - stretch.since >= ms;
      },
      { what: "traffic to warm up", timeoutMs: 60_000, intervalMs: 100 },
    );
  } finally {
    await traffic.stop();
  }
}

/** One line per fault, for the lead to quote. */
export function recoveryLine(result: FaultResult): string {
  const s = (ms: number | null) => (ms === null ? "—" : `${(ms / 1000).toFixed(1)} s`);
  return [
    `chaos ${result.target} ${result.fault.padEnd(13)}`,
    `first order acked+settled ${s(result.firstSettledMs)}`,
    `back to normal ${s(result.normalMs)}`,
    `server answering ${s(result.restoredMs)}`,
    `killed processes restarted in ${s(result.rejoinMs)}`,
    `drain ${s(result.drainMs)}`,
    `${result.cutRequests} requests cut`,
    `(${result.ordersDuringOutage.acked}/${result.ordersDuringOutage.sent} orders acked meanwhile)`,
  ].join("  ");
}
