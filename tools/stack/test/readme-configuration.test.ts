// The README's configuration table against the zod schemas the processes parse their
// environment with: every variable a process reads is in the table, every variable in the table
// is read somewhere, and each literal default the table states is the schema's default. The
// table is what a newcomer or an operator reads, so it must not drift from the code.
import fs from "node:fs";
import path from "node:path";
import { platformEnvSchema } from "@spotx/platform";
import { describe, expect, it } from "vitest";
import { marketMakerEnvSchema } from "../../../apps/market-maker/src/env";
import { webEnvSchema } from "../../../apps/web/src/env";
import { workerEnvSchema } from "../../../apps/worker/src/env";
import { apiEnvSchema } from "../../../packages/api/src/env";
import { startEnvSchema } from "../src/commands/start";
import { repoRoot } from "../src/paths";

const SCHEMAS = {
  "@spotx/platform": platformEnvSchema,
  "@spotx/api": apiEnvSchema,
  "apps/web": webEnvSchema,
  "apps/worker": workerEnvSchema,
  "apps/market-maker": marketMakerEnvSchema,
  "npm start": startEnvSchema,
};

/** Variables in the table that no process schema holds, and the file that reads each. */
const READ_ELSEWHERE: Record<string, string> = {
  CHROMIUM_PATH: "e2e/playwright.config.ts",
};

/**
 * Defaults the table describes in words because they depend on the machine, another variable
 * or the mode (the host name, the secret key file, WEB_PORT, every tradable market, …).
 */
const DESCRIBED_DEFAULTS = new Set([
  "DATABASE_OWNER_URL",
  "SPOTX_SECRET_KEY",
  "DEMO_DEPOSITS",
  "WEB_INSTANCE_ID",
  "WORKER_INSTANCE_ID",
  "MARKET_MAKER_API_URL",
  "MARKET_MAKER_MARKETS",
  "SPOTX_METRICS_TOKEN",
  "SPOTX_ADVERTISE_HOST",
]);

/** The rows of the README's "## Configuration" table: variable → its default cell. */
function documentedVariables(): Map<string, string> {
  const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
  const start = readme.indexOf("\n## Configuration\n");
  expect(start).toBeGreaterThan(0);
  const end = readme.indexOf("\n## ", start + 1);
  const rows = new Map<string, string>();
  for (const line of readme.slice(start, end).split("\n")) {
    const row = /^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \|/.exec(line);
    if (row?.[1] !== undefined && row[2] !== undefined) rows.set(row[1], row[2].trim());
  }
  return rows;
}

function schemaVariables(): Map<string, { owner: string; fallback: unknown }> {
  const found = new Map<string, { owner: string; fallback: unknown }>();
  for (const [owner, schema] of Object.entries(SCHEMAS)) {
    for (const [name, field] of Object.entries(schema.shape)) {
      const parsed = (
        field as { safeParse(value: unknown): { success: boolean; data?: unknown } }
      ).safeParse(undefined);
      found.set(name, { owner, fallback: parsed.success ? parsed.data : undefined });
    }
  }
  return found;
}

describe("the README's configuration table", () => {
  const documented = documentedVariables();
  const read = schemaVariables();

  it("lists every variable a process reads", () => {
    const missing = [...read].filter(([name]) => !documented.has(name));
    expect(missing.map(([name, { owner }]) => `${name} (${owner})`)).toEqual([]);
  });

  it("lists only variables something reads", () => {
    const unread = [...documented.keys()].filter(
      (name) => !read.has(name) && READ_ELSEWHERE[name] === undefined,
    );
    expect(unread).toEqual([]);
    for (const [name, file] of Object.entries(READ_ELSEWHERE)) {
      expect(fs.readFileSync(path.join(repoRoot, file), "utf8")).toContain(`process.env.${name}`);
    }
  });

  it("states each process's literal default", () => {
    const wrong: string[] = [];
    for (const [name, { fallback }] of read) {
      if (DESCRIBED_DEFAULTS.has(name)) continue;
      const cell = documented.get(name);
      if (cell === undefined) continue; // reported by the first case
      const expected = Array.isArray(fallback) ? fallback.join(",") : String(fallback);
      const stated = /`([^`]*)`/.exec(cell)?.[1];
      if (stated !== expected) wrong.push(`${name}: table says ${cell}, the schema ${expected}`);
    }
    expect(wrong).toEqual([]);
  });
});
