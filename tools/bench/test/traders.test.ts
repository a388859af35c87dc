// The flow is the same whichever front door carries it: the pool sends through its Transport,
// cancels only orders its trader placed (each once), and hands traders' resting orders to
// another process' pool and back.
import { describe, expect, it } from "vitest";
import { type LimitOrder, TraderPool, type TraderState, type Transport } from "../src/traders";

/** Order ids from `first` on (two transports standing for two processes never share one). */
function recordingTransport(first = 1n) {
  let next = first;
  const placed = new Map<string, bigint>(); // order id → user
  const cancelled: Array<{ userId: bigint; orderId: string }> = [];
  const orders: LimitOrder[] = [];
  const transport: Transport = {
    async place(userId, order) {
      orders.push(order);
      const orderId = next++;
      placed.set(String(orderId), userId);
      return { orderId };
    },
    async cancel(userId, _market, orderId) {
      cancelled.push({ userId, orderId });
      return { error: null };
    },
  };
  return { transport, placed, cancelled, orders };
}

const traders = (): TraderState[] => [
  { userId: 11n, resting: [] },
  { userId: 12n, resting: [] },
];

describe("the traders' flow", () => {
  it("places through its transport and cancels only its traders' own resting orders, once each", async () => {
    const t = recordingTransport();
    const pool = new TraderPool(t.transport, traders());
    for (let i = 0; i < 400; i++) await pool.act();
    expect(t.orders.length + t.cancelled.length).toBe(400);
    expect(t.cancelled.length).toBeGreaterThan(50);
    for (const c of t.cancelled) expect(t.placed.get(c.orderId)).toBe(c.userId);
    expect(new Set(t.cancelled.map((c) => c.orderId)).size).toBe(t.cancelled.length);
    expect(new Set(t.orders.map((o) => o.timeInForce))).toEqual(new Set(["gtc", "ioc"]));
  });

  it("continues from resting orders handed back by another process' pool", async () => {
    const there = recordingTransport();
    const elsewhere = new TraderPool(there.transport, traders(), 7_000);
    for (let i = 0; i < 200; i++) await elsewhere.act();
    const handedBack = structuredClone(elsewhere.states());
    const stillResting = new Set(handedBack.flatMap((s) => s.resting.map((r) => r.orderId)));

    const here = recordingTransport(1_000_000n);
    const pool = new TraderPool(here.transport, traders());
    pool.restore(handedBack);
    expect(pool.restingCount()).toBe(stillResting.size);
    for (let i = 0; i < 200; i++) await pool.act();
    const handedBackCancelled = here.cancelled.filter((c) => stillResting.has(c.orderId));
    expect(handedBackCancelled.length).toBeGreaterThan(10);
    // Every cancel here is of an order handed back or placed here, by the trader who owns it.
    for (const c of here.cancelled) {
      const owner = stillResting.has(c.orderId)
        ? handedBack.find((s) => s.resting.some((r) => r.orderId === c.orderId))?.userId
        : here.placed.get(c.orderId);
      expect(owner).toBe(c.userId);
    }
  });
});
