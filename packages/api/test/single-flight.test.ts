// Shared loads: however many callers ask while a value loads, it is loaded once.
import { describe, expect, it } from "vitest";
import { Refreshing, SingleFlight } from "../src/single-flight";

/** A load the test finishes by hand, counting how often it was started. */
function manualLoad<T>() {
  const waiting: Array<{ resolve: (value: T) => void; reject: (error: unknown) => void }> = [];
  let started = 0;
  const load = () =>
    new Promise<T>((resolve, reject) => {
      started += 1;
      waiting.push({ resolve, reject });
    });
  return {
    load,
    started: () => started,
    finish: (value: T) => waiting.shift()?.resolve(value),
    fail: (error: unknown) => waiting.shift()?.reject(error),
  };
}

describe("Refreshing", () => {
  it("loads once for every caller that asks while the value loads, then keeps it for its life", async () => {
    let now = 1_000;
    const manual = manualLoad<string>();
    const value = new Refreshing(manual.load, 2_000, () => now);
    const asked = Array.from({ length: 100 }, () => value.get());
    expect(manual.started()).toBe(1);
    manual.finish("first");
    expect(await Promise.all(asked)).toEqual(Array(100).fill("first"));

    now += 1_999;
    expect(await value.get()).toBe("first");
    expect(manual.started()).toBe(1);

    now += 1; // two seconds after the load started: read again, once
    const again = [value.get(), value.get(), value.get()];
    expect(manual.started()).toBe(2);
    manual.finish("second");
    expect(await Promise.all(again)).toEqual(["second", "second", "second"]);
  });

  it("counts a value's age from when its load started", async () => {
    let now = 0;
    const manual = manualLoad<number>();
    const value = new Refreshing(manual.load, 1_000, () => now);
    const first = value.get();
    now = 900; // the load took 900 ms
    manual.finish(1);
    await first;
    now = 1_000;
    const second = value.get();
    expect(manual.started()).toBe(2);
    manual.finish(2);
    expect(await second).toBe(2);
  });

  it("keeps nothing from a failed load: its callers get the error, the next caller loads again", async () => {
    const manual = manualLoad<string>();
    const value = new Refreshing(manual.load, 60_000);
    const asked = [value.get(), value.get()];
    manual.fail(new Error("database away"));
    for (const outcome of await Promise.allSettled(asked)) {
      expect(outcome).toMatchObject({ status: "rejected", reason: { message: "database away" } });
    }
    const next = value.get();
    expect(manual.started()).toBe(2);
    manual.finish("back");
    expect(await next).toBe("back");
  });

  it("loads again when asked for a fresh value, joining a load already in flight", async () => {
    const manual = manualLoad<string>();
    const value = new Refreshing(manual.load, 60_000);
    const first = value.get();
    const fresh = value.get({ fresh: true });
    expect(manual.started()).toBe(1);
    manual.finish("a");
    expect([await first, await fresh]).toEqual(["a", "a"]);
    const fresher = value.get({ fresh: true });
    expect(manual.started()).toBe(2);
    manual.finish("b");
    expect(await fresher).toBe("b");
    expect(await value.get()).toBe("b");
  });
});

describe("SingleFlight", () => {
  it("shares a load per key while it runs, and starts anew once it settled", async () => {
    const flights = new SingleFlight<string, number>();
    let loads = 0;
    const gates = new Map<string, () => void>();
    const load = (key: string, value: number) => () =>
      new Promise<number>((resolve) => {
        loads += 1;
        gates.set(key, () => resolve(value));
      });
    const a = [flights.run("a", load("a", 1)), flights.run("a", load("a", 2))];
    const b = flights.run("b", load("b", 3));
    expect(loads).toBe(2);
    gates.get("a")?.();
    gates.get("b")?.();
    expect(await Promise.all([...a, b])).toEqual([1, 1, 3]);
    const later = flights.run("a", load("a", 4));
    expect(loads).toBe(3);
    gates.get("a")?.();
    expect(await later).toBe(4);
  });

  it("lets callers after clear() start their own load", async () => {
    const flights = new SingleFlight<string, string>();
    const manual = manualLoad<string>();
    const before = flights.run("k", manual.load);
    flights.clear();
    const after = flights.run("k", manual.load);
    expect(manual.started()).toBe(2);
    manual.finish("old");
    manual.finish("new");
    expect([await before, await after]).toEqual(["old", "new"]);
  });
});
