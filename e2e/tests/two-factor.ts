// Two-factor sign-in for the specs: codes computed from a secret exactly as an authenticator app
// does (otplib, RFC 6238), each for a time step the exchange has not seen from this suite yet —
// a code is accepted once, for the step before, at or after the current one — and the secrets
// of the users the suite enrolled, kept in a file per exchange so that a restarted test worker
// still signs them in.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { generateSync } from "otplib";
import { exchangeSettings } from "../exchange";

const PERIOD = 30;

type Kept = { secret: string; lastStep: number };

function storeFile(): string {
  return path.join(os.tmpdir(), `spotx-e2e-${exchangeSettings().namespace}-totp.json`);
}

function readStore(): Record<string, Kept> {
  try {
    return JSON.parse(fs.readFileSync(storeFile(), "utf8")) as Record<string, Kept>;
  } catch {
    return {};
  }
}

function writeStore(store: Record<string, Kept>) {
  fs.writeFileSync(storeFile(), JSON.stringify(store), { mode: 0o600 });
}

/** The secret the suite enrolled `email` with, if it did. */
export function keptSecret(email: string): string | undefined {
  return readStore()[email]?.secret;
}

/** Remembers an enrolment's secret (the suite enrolled `email` through the API or the page). */
export function keepSecret(email: string, secret: string, usedStep = 0) {
  const store = readStore();
  store[email] = { secret, lastStep: usedStep };
  writeStore(store);
}

/**
 * A code for `secret` the exchange will accept now and has not seen from this suite: the current
 * step's, or the next one's when the current was used; waits for the step to turn when both were.
 * With `email`, the step is recorded in the suite's file.
 */
export async function freshCode(secret: string, email?: string): Promise<string> {
  for (;;) {
    const now = Math.floor(Date.now() / 1000);
    const current = Math.floor(now / PERIOD);
    const last = email ? (readStore()[email]?.lastStep ?? 0) : 0;
    const step = Math.max(current, last + 1);
    if (step <= current + 1) {
      if (email) keepSecret(email, secret, step);
      return generateSync({ secret, epoch: step * PERIOD });
    }
    await new Promise((resolve) =>
      setTimeout(resolve, ((current + 1) * PERIOD - now) * 1000 + 100),
    );
  }
}
