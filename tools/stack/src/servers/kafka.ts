// Apache Kafka in KRaft combined mode (one node is broker and controller), from the jars on
// Maven Central, resolved with `mvn` into .cache/kafka/<version>/ and run on Java 17+.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { pingKafka } from "@spotx/platform/kafka";
import { cacheDir, dataDir, logDir } from "../paths";
import { spawnDetached } from "../process";
import { javaMajorVersion, StackError, which } from "../system";
import type { StackServer } from "./types";

export const KAFKA_PORT = 59092;
export const KAFKA_CONTROLLER_PORT = 59093;
export const kafkaBroker = () => `127.0.0.1:${KAFKA_PORT}`;

const pomFile = path.resolve(import.meta.dirname, "../../kafka/pom.xml");
const kafkaData = path.join(dataDir, "kafka");
const configFile = path.join(kafkaData, "server.properties");
const log4jFile = path.join(kafkaData, "log4j2.properties");

/** The broker version pinned in tools/stack/kafka/pom.xml. */
export function kafkaVersion(): string {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(fs.readFileSync(pomFile, "utf8"));
  if (!match?.[1]) throw new StackError("kafka", `no <kafka.version> in ${pomFile}`);
  return match[1];
}

const libsDir = () => path.join(cacheDir, "kafka", kafkaVersion(), "libs");
export const classpath = () => `${libsDir()}/*`;

export function java(): string {
  const binary = which("java");
  if (!binary) throw new StackError("kafka", "java not found on PATH");
  const major = javaMajorVersion(binary);
  if (major === undefined) throw new StackError("kafka", `could not read the version of ${binary}`);
  if (major < 17)
    throw new StackError(
      "kafka",
      `Java too old: ${binary} is Java ${major}, Kafka needs Java 17+ (apt-get install openjdk-17-jre-headless)`,
    );
  return binary;
}

/** Resolves the broker's jars with Maven once; a stamp file marks a complete copy. */
export function fetchJars(): void {
  const libs = libsDir();
  const stamp = path.join(libs, ".complete");
  if (fs.existsSync(stamp)) return;
  const mvn = which("mvn");
  if (!mvn) throw new StackError("kafka", "mvn not found on PATH");
  process.stdout.write(`  resolving Kafka ${kafkaVersion()} jars from Maven Central…\n`);
  fs.rmSync(libs, { recursive: true, force: true });
  const result = spawnSync(
    mvn,
    [
      "-B",
      "-q",
      "-f",
      pomFile,
      "dependency:copy-dependencies",
      `-DoutputDirectory=${libs}`,
      "-DincludeScope=runtime",
    ],
    { encoding: "utf8" },
  );
  if (result.status !== 0) {
    const tail = `${result.stdout}${result.stderr}`.trim().split("\n").slice(-3).join(" | ");
    throw new StackError("kafka", `mvn could not resolve the Kafka jars: ${tail}`);
  }
  fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

function writeConfig(): void {
  fs.mkdirSync(kafkaData, { recursive: true });
  const properties = {
    "process.roles": "broker,controller",
    "node.id": "1",
    "controller.quorum.voters": `1@127.0.0.1:${KAFKA_CONTROLLER_PORT}`,
    listeners: `PLAINTEXT://127.0.0.1:${KAFKA_PORT},CONTROLLER://127.0.0.1:${KAFKA_CONTROLLER_PORT}`,
    "advertised.listeners": `PLAINTEXT://127.0.0.1:${KAFKA_PORT}`,
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    "log.dirs": path.join(kafkaData, "data"),
    "num.partitions": "4",
    // The app creates its topics explicitly, with their partition counts.
    "auto.create.topics.enable": "false",
    // One node: internal topics cannot have more than one replica. Few partitions keep the
    // group and transaction coordinators quick to load.
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "4",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "transaction.state.log.num.partitions": "4",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
  };
  fs.writeFileSync(
    configFile,
    `# written by tools/stack on every start\n${Object.entries(properties)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n")}\n`,
  );
  writeLog4j(log4jFile);
}

/** The broker's log4j2 settings: its log to stdout (the stack's log file), warnings and start-up. */
export function writeLog4j(file: string): void {
  fs.writeFileSync(
    file,
    [
      "# written by tools/stack: the broker's log goes to stdout, which the stack sends to .data/logs/kafka.log",
      "appender.out.type = Console",
      "appender.out.name = out",
      "appender.out.layout.type = PatternLayout",
      "appender.out.layout.pattern = [%d] %p %m (%c)%n",
      "rootLogger.level = WARN",
      "rootLogger.appenderRef.out.ref = out",
      "logger.server.name = kafka.server.KafkaRaftServer",
      "logger.server.level = INFO",
      "",
    ].join("\n"),
  );
}

/** Formats the KRaft storage the first time; the cluster id is kept in meta.properties. */
function formatStorage(): void {
  if (fs.existsSync(path.join(kafkaData, "data", "meta.properties"))) return;
  const clusterId = randomBytes(16).toString("base64url");
  const result = spawnSync(
    java(),
    [
      "-cp",
      classpath(),
      `-Dlog4j2.configurationFile=${log4jFile}`,
      "kafka.tools.StorageTool",
      "format",
      "-t",
      clusterId,
      "-c",
      configFile,
    ],
    { encoding: "utf8" },
  );
  if (result.status !== 0) {
    const tail = `${result.stdout}${result.stderr}`.trim().split("\n").slice(-2).join(" | ");
    throw new StackError("kafka", `formatting the KRaft storage failed: ${tail}`);
  }
}

export const kafkaServer: StackServer = {
  name: "kafka",
  envVar: "KAFKA_BROKERS",
  ports: [KAFKA_PORT, KAFKA_CONTROLLER_PORT],
  readyTimeoutMs: 60_000,
  stopSignal: "SIGTERM", // controlled shutdown
  stopGraceMs: 30_000,

  missingPackages() {
    const packages: string[] = [];
    if (!which("java")) packages.push("openjdk-17-jre-headless");
    if (!which("mvn")) packages.push("maven");
    return packages;
  },

  async prepare() {
    java();
    fetchJars();
    writeConfig();
    formatStorage();
  },

  start() {
    return spawnDetached({
      server: "kafka",
      command: java(),
      args: [
        "-Xms256m",
        "-Xmx1g",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        `-Dlog4j2.configurationFile=${log4jFile}`,
        `-Dkafka.logs.dir=${logDir}`,
        "-cp",
        classpath(),
        "kafka.Kafka",
        configFile,
      ],
    });
  },

  probe: () => pingKafka([kafkaBroker()]),
  probeExternal: (value) =>
    pingKafka(
      value
        .split(",")
        .map((part) => part.trim())
        .filter((part) => part.length > 0),
    ),
};
