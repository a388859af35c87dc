// The stack tool against the real servers: it recognises its own processes, refuses ports
// held by others, restarts a server that died, and fails fast on a bad external address.
import { spawnSync } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../src/paths";
import { isPortFree, ourPid, portOwner } from "../src/process";
import { redact, stackEnv, servers as stackServers, status, up } from "../src/stack";

const servers: net.Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
});

describe("stack", () => {
  it("points the apps at our servers unless a variable names another", () => {
    expect(stackEnv({})).toEqual({
      DATABASE_URL: "postgres://spotx:spotx@127.0.0.1:55432/spotx",
      REDIS_URL: "redis://127.0.0.1:56379",
      ETCD_ENDPOINTS: "http://127.0.0.1:52379",
      KAFKA_BROKERS: "127.0.0.1:59092",
    });
    expect(stackEnv({ KAFKA_BROKERS: "kafka-1:9092,kafka-2:9092" }).KAFKA_BROKERS).toBe(
      "kafka-1:9092,kafka-2:9092",
    );
  });

  it("hides passwords in the addresses it prints", () => {
    expect(redact("postgres://spotx:s3cret@db.internal:5432/spotx")).toBe(
      "postgres://spotx:***@db.internal:5432/spotx",
    );
    expect(redact("redis://127.0.0.1:6379")).toBe("redis://127.0.0.1:6379");
  });

  it("names the process that holds a port", async () => {
    const server = net.createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (typeof address !== "object" || !address) throw new Error("no address");
    expect(await isPortFree(address.port)).toBe(false);
    expect(portOwner(address.port)).toBe(`node (pid ${process.pid})`);
  });

  // Servers named by an environment variable are someone else's; the rest are ours.
  const ours = stackServers.filter((s) => !process.env[s.envVar]).map((s) => s.name);
  const external = stackServers.filter((s) => process.env[s.envVar]).map((s) => s.name);

  it("reports every server healthy after up, and a second up changes nothing", async () => {
    await up(() => undefined);
    const before = ours.map((s) => ourPid(s));
    const lines: string[] = [];
    await up((line) => lines.push(line));
    expect(
      lines
        .filter((l) => /already running/.test(l))
        .map((l) => l.trim().split(/\s+/)[0])
        .sort(),
    ).toEqual([...ours].sort());
    expect(
      lines
        .filter((l) => /\bexternal\b/.test(l))
        .map((l) => l.trim().split(/\s+/)[0])
        .sort(),
    ).toEqual([...external].sort());
    expect(ours.map((s) => ourPid(s))).toEqual(before);
    expect(await status(() => undefined)).toBe(true);
  });

  it("restarts a server that was killed with SIGKILL, keeping its data", async () => {
    if (!ours.includes("redis")) {
      // REDIS_URL names someone else's Redis: the stack must leave it alone, not restart it.
      const lines: string[] = [];
      await up((line) => lines.push(line));
      expect(lines.find((l) => l.trim().startsWith("redis"))).toMatch(/redis\s+external/);
      return;
    }
    const { createRedis } = await import("@spotx/platform/redis");
    const client = createRedis(stackEnv().REDIS_URL);
    const key = `test:survives-restart:${process.pid}`;
    await client.set(key, "kept", "EX", 60);
    client.disconnect();

    const pid = ourPid("redis");
    if (pid === undefined) throw new Error("the stack's redis is not running");
    try {
      process.kill(pid, "SIGKILL");
      while (ourPid("redis") !== undefined) await new Promise((r) => setTimeout(r, 20));

      const lines: string[] = [];
      await up((line) => lines.push(line));
      expect(lines.find((l) => l.trim().startsWith("redis"))).toMatch(/redis\s+ready/);
      expect(ourPid("redis")).not.toBe(pid);

      const after = createRedis(stackEnv().REDIS_URL);
      expect(await after.get(key)).toBe("kept"); // the append-only file survived the kill
      after.disconnect();
    } finally {
      // Whatever happened above, leave the stack up for the suites that follow.
      await up(() => undefined);
    }
  });

  it.each([
    ["DATABASE_URL", "postgres://nope"],
    ["KAFKA_BROKERS", "127.0.0.1:1"],
  ])("npm start exits non-zero within 15 s naming %s when it is unreachable", (variable, value) => {
    const started = Date.now();
    const result = spawnSync(process.execPath, [path.join(repoRoot, "tools/stack/bin/start.mjs")], {
      cwd: repoRoot,
      env: { ...process.env, [variable]: value },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    const errorLines = result.stderr.split("\n").filter((line) => line.startsWith("✗"));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toContain(`${variable}=${value}`);
    expect(errorLines[0]).toContain("not reachable");
  });
});
