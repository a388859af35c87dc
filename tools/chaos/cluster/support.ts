// What the cluster scenarios share: waiting on a condition, and the recovery times they print
// and write for the run's summary.
import fs from "node:fs";
import path from "node:path";

export async function waitUntil<T>(
  probe: () => Promise<T | undefined | null | false>,
  options: { timeoutMs: number; what: string; everyMs?: number },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}`);
    await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 100));
  }
}

export type RecoveryRecord = {
  fault: string;
  /** From the kill until the cluster had replaced what died (a new leader or primary). */
  promotedMs?: number;
  /** From the kill until the exchange did its work again. */
  recoveredMs: number;
  note?: string;
};

/** Prints one line and appends it to the run's JSON (CLUSTER_RESULTS, set by test:cluster). */
export function recordRecovery(record: RecoveryRecord) {
  const line = `recovery: ${record.fault}: ${record.promotedMs === undefined ? "" : `replaced in ${(record.promotedMs / 1000).toFixed(1)} s, `}recovered in ${(record.recoveredMs / 1000).toFixed(1)} s${record.note ? ` (${record.note})` : ""}`;
  console.log(line);
  const file = process.env.CLUSTER_RESULTS;
  if (!file) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const existing = fs.existsSync(file)
    ? (JSON.parse(fs.readFileSync(file, "utf8")) as RecoveryRecord[])
    : [];
  fs.writeFileSync(file, `${JSON.stringify([...existing, record], null, 2)}\n`);
}
