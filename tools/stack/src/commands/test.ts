// `npm test`: installs what the suites need, brings the stack up, runs every suite through
// turbo (unit, integration against the real stack, Playwright e2e) and ends with one line
// adding them all up.
import fs from "node:fs";
import path from "node:path";
import { repoRoot } from "../paths";
import { up } from "../stack";
import { aptInstall, StackError } from "../system";
import { failureTail, quietToolsEnv, runCommand } from "./run";

const CHROMIUM = "/usr/bin/chromium";
/** Checks deploy/prometheus (Debian's prometheus package ships it). */
const PROMTOOL = "/usr/bin/promtool";
const resultsDir = path.join(repoRoot, ".test-results");

type SuiteResult = {
  suite: string;
  passed: number;
  failed: number;
  skipped: number;
  note?: string;
};

/** Every workspace with a test script is a suite that must report. */
function suites(): string[] {
  const root = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
    workspaces: string[];
  };
  const names: string[] = [];
  for (const pattern of root.workspaces) {
    const dirs = pattern.endsWith("/*")
      ? fs
          .readdirSync(path.join(repoRoot, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => path.join(pattern.slice(0, -2), d.name))
      : [pattern];
    for (const dir of dirs) {
      const file = path.join(repoRoot, dir, "package.json");
      if (!fs.existsSync(file)) continue;
      const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as {
        name: string;
        scripts?: Record<string, string>;
      };
      if (pkg.scripts?.test) names.push(pkg.name.replace(/^@spotx\//, ""));
    }
  }
  return names.sort();
}

type VitestReport = {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests?: number;
  success: boolean;
  numFailedTestSuites?: number;
};
type PlaywrightReport = {
  stats: { expected: number; unexpected: number; flaky: number; skipped: number };
  errors?: unknown[];
};

function readResult(suite: string): SuiteResult {
  const file = path.join(resultsDir, `${suite}.json`);
  if (!fs.existsSync(file))
    return {
      suite,
      passed: 0,
      failed: 1,
      skipped: 0,
      note: "no results: the suite did not run to the end",
    };
  const report = JSON.parse(fs.readFileSync(file, "utf8")) as VitestReport | PlaywrightReport;
  if ("stats" in report) {
    const setupErrors = report.errors?.length ?? 0;
    return {
      suite,
      passed: report.stats.expected,
      failed: report.stats.unexpected + report.stats.flaky + setupErrors,
      skipped: report.stats.skipped,
      ...(setupErrors > 0 ? { note: `${setupErrors} error(s) outside tests` } : {}),
    };
  }
  // A file that fails to load has no tests to count; it still fails the suite.
  const brokenFiles = report.success
    ? 0
    : Math.max(0, (report.numFailedTestSuites ?? 0) - (report.numFailedTests > 0 ? 1 : 0));
  return {
    suite,
    passed: report.numPassedTests,
    failed:
      report.numFailedTests +
      (report.numFailedTests === 0 && !report.success ? Math.max(1, brokenFiles) : 0),
    skipped: report.numPendingTests + (report.numTodoTests ?? 0),
  };
}

/** Type errors and lint findings fail the run like a failing test: one check each. */
async function runStaticChecks(): Promise<SuiteResult> {
  console.log("• static checks: typecheck (every workspace) and lint (biome)");
  const checks = [
    {
      name: "typecheck",
      run: () =>
        runCommand("typecheck", "npx", [
          "turbo",
          "run",
          "typecheck",
          "--env-mode=loose",
          "--output-logs=errors-only",
        ]),
    },
    { name: "lint", run: () => runCommand("lint", "npx", ["biome", "ci", "."]) },
  ];
  const failures: string[] = [];
  for (const check of checks) {
    const result = await check.run();
    if (result.code === 0) {
      console.log(`  ${check.name} ok`);
    } else {
      failures.push(check.name);
      console.log(
        `  ${check.name} FAILED; last lines of ${path.relative(repoRoot, result.logFile)}:\n${failureTail(result, 30)}`,
      );
    }
  }
  return {
    suite: "static",
    passed: checks.length - failures.length,
    failed: failures.length,
    skipped: 0,
    ...(failures.length > 0 ? { note: `${failures.join(", ")} failed` } : {}),
  };
}

export async function test(): Promise<number> {
  const started = Date.now();
  if (!fs.existsSync(CHROMIUM)) aptInstall("chromium", ["chromium"]);
  if (!fs.existsSync(PROMTOOL)) aptInstall("promtool", ["prometheus"]);

  console.log("• starting the stack (PostgreSQL, Redis, etcd, Kafka)");
  await up((line) => console.log(line));

  fs.rmSync(resultsDir, { recursive: true, force: true });
  fs.mkdirSync(resultsDir, { recursive: true });
  const staticChecks = await runStaticChecks();
  const names = suites();
  console.log(`• running ${names.length} suites through turbo: ${names.join(", ")}`);
  const run = await runCommand(
    "test",
    "npx",
    [
      "turbo",
      "run",
      "test",
      "--concurrency=1",
      "--continue",
      "--env-mode=loose",
      "--output-logs=full",
    ],
    {
      showOutput: true,
      // Server addresses pass through only when the user set them; otherwise the suites use
      // platform's defaults, which are the stack's own servers.
      env: {
        ...quietToolsEnv,
        SPOTX_TEST_RESULTS: resultsDir,
        LOG_LEVEL: process.env.LOG_LEVEL ?? "error",
        CHROMIUM_PATH: CHROMIUM,
      },
    },
  );

  const results = [staticChecks, ...names.map(readResult)];
  console.log("\nsuite        passed  failed  skipped");
  for (const r of results) {
    console.log(
      `${r.suite.padEnd(12)} ${String(r.passed).padStart(6)}  ${String(r.failed).padStart(6)}  ${String(r.skipped).padStart(7)}${r.note ? `  (${r.note})` : ""}`,
    );
  }
  const passed = results.reduce((sum, r) => sum + r.passed, 0);
  let failed = results.reduce((sum, r) => sum + r.failed, 0);
  const skipped = results.reduce((sum, r) => sum + r.skipped, 0);
  // Skipped tests are not allowed in this repo: each one counts as a failure.
  failed += skipped;
  if (run.code !== 0 && failed === 0) failed = 1; // turbo failed outside any test we could count
  console.log(
    `took ${((Date.now() - started) / 1000).toFixed(0)}s${skipped > 0 ? `; ${skipped} skipped test(s) counted as failed` : ""}${run.code !== 0 ? `; turbo exited ${run.code}` : ""}`,
  );
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

export { StackError };
