// Group commit without a timer: a caller alone is committed at once; callers that arrive while
// a batch commits leave together in the next one, so batches grow with load.
import { describe, expect, it } from "vitest";
import { GroupCommit, type Outcome } from "../src/trading/group-commit";

/** A commit the test finishes by hand, recording each batch it was given. */
function manualCommit() {
  const batches: number[][] = [];
  const pending: Array<() => void> = [];
  const commit = (inputs: number[]) =>
    new Promise<Outcome<number>[]>((resolve) => {
      batches.push(inputs);
      pending.push(() => resolve(inputs.map((value) => ({ ok: true, value: value * 10 }))));
    });
  const finishNext = async () => {
    const finish = pending.shift();
    if (!finish) throw new Error("no batch is committing");
    finish();
    // Let the answers and the next batch's start run.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { batches, commit, finishNext };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("GroupCommit", () => {
  it("commits a lone caller at the end of its turn, without waiting for company", async () => {
    const manual = manualCommit();
    const group = new GroupCommit(manual.commit);
    const answer = group.submit(7);
    await turn();
    expect(manual.batches).toEqual([[7]]);
    await manual.finishNext();
    expect(await answer).toBe(70);
  });

  it("gathers the callers of one turn, and those arriving during a commit into the next batch", async () => {
    const manual = manualCommit();
    const group = new GroupCommit(manual.commit);
    const first = [group.submit(1), group.submit(2)];
    await turn();
    expect(manual.batches).toEqual([[1, 2]]);
    // Five arrive while [1, 2] commits: nothing starts until it is done.
    const next = [3, 4, 5, 6, 7].map((n) => group.submit(n));
    await turn();
    await turn();
    expect(manual.batches).toHaveLength(1);
    expect(group.committing).toBe(1);
    await manual.finishNext();
    expect(await Promise.all(first)).toEqual([10, 20]);
    expect(manual.batches).toEqual([
      [1, 2],
      [3, 4, 5, 6, 7],
    ]);
    await manual.finishNext();
    expect(await Promise.all(next)).toEqual([30, 40, 50, 60, 70]);
    expect(group.committing).toBe(0);
  });

  it("splits a queue longer than maxBatch, and answers each caller with its own failure", async () => {
    const batches: number[][] = [];
    const group = new GroupCommit<number, number>(
      async (inputs) => {
        batches.push(inputs);
        return inputs.map((n) =>
          n % 2 === 0 ? { ok: true, value: n } : { ok: false, error: new Error(`odd ${n}`) },
        );
      },
      { maxBatch: 3, maxConcurrent: 1 },
    );
    const answers = [1, 2, 3, 4, 5].map((n) => group.submit(n).catch((e: Error) => e.message));
    expect(await Promise.all(answers)).toEqual(["odd 1", 2, "odd 3", 4, "odd 5"]);
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it("rejects every caller of a batch whose commit throws, and goes on with the next", async () => {
    let calls = 0;
    const group = new GroupCommit<number, number>(async (inputs) => {
      calls += 1;
      if (calls === 1) throw new Error("connection lost");
      return inputs.map((value) => ({ ok: true, value }));
    });
    const failed = [group.submit(1), group.submit(2)].map((p) => p.catch((e: Error) => e.message));
    expect(await Promise.all(failed)).toEqual(["connection lost", "connection lost"]);
    expect(await group.submit(3)).toBe(3);
  });
});
