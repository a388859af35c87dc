// etcd from Debian's `etcd-server` package: one member on client port 52379, peer port 52380.
import fs from "node:fs";
import path from "node:path";
import { pingEtcd } from "@spotx/platform/etcd";
import { dataDir } from "../paths";
import { spawnDetached } from "../process";
import { StackError, which } from "../system";
import type { StackServer } from "./types";

export const ETCD_PORT = 52379;
export const ETCD_PEER_PORT = 52380;
export const etcdEndpoint = () => `http://127.0.0.1:${ETCD_PORT}`;
const etcdData = path.join(dataDir, "etcd");

export const etcdServer: StackServer = {
  name: "etcd",
  envVar: "ETCD_ENDPOINTS",
  ports: [ETCD_PORT, ETCD_PEER_PORT],
  readyTimeoutMs: 20_000,
  stopSignal: "SIGTERM",
  stopGraceMs: 10_000,

  missingPackages: () => (which("etcd") ? [] : ["etcd-server"]),

  async prepare() {
    fs.mkdirSync(etcdData, { recursive: true, mode: 0o700 });
  },

  start() {
    const binary = which("etcd");
    if (!binary) throw new StackError("etcd", "etcd not found on PATH");
    const peer = `http://127.0.0.1:${ETCD_PEER_PORT}`;
    return spawnDetached({
      server: "etcd",
      command: binary,
      args: [
        "--name",
        "spotx",
        "--data-dir",
        etcdData,
        "--listen-client-urls",
        etcdEndpoint(),
        "--advertise-client-urls",
        etcdEndpoint(),
        "--listen-peer-urls",
        peer,
        "--initial-advertise-peer-urls",
        peer,
        "--initial-cluster",
        `spotx=${peer}`,
        "--initial-cluster-state",
        "new",
        "--auto-compaction-mode",
        "periodic",
        "--auto-compaction-retention",
        "1h",
        "--logger",
        "zap",
        "--log-level",
        "warn",
      ],
    });
  },

  probe: () => pingEtcd([etcdEndpoint()]),
  probeExternal: (value) =>
    pingEtcd(
      value
        .split(",")
        .map((part) => part.trim())
        .filter((part) => part.length > 0),
    ),
};
