// The shared infrastructure configuration, parsed once from process.env. Every server's
// address has a default pointing at the local stack (tools/stack); setting the variable
// points spotx at a real cluster instead, and the stack then leaves that server alone.
import { isIP } from "node:net";
import { z } from "zod";

/** An address with a prefix length its family allows (10.0.0.0/8, fc00::/7). */
function isCidr(entry: string): boolean {
  const [base = "", prefix, ...rest] = entry.split("/");
  const family = isIP(base);
  if (family === 0 || rest.length > 0 || prefix === undefined || !/^\d{1,3}$/.test(prefix)) {
    return false;
  }
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

const csv = z
  .string()
  .transform((value) =>
    value
      .split(",")
      .map((part) => part.trim())
      .filter((part) => part.length > 0),
  )
  .refine((parts) => parts.length > 0, "must list at least one address");

export const platformEnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** What web and worker connect with: the stack's least-privilege app role by default. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
    .default("postgres://spotx_app:spotx_app@127.0.0.1:55432/spotx"),
  /**
   * What migrations run as (the role owning the tables). Unset: the stack's owner role, or,
   * when DATABASE_URL is set, DATABASE_URL itself (see @spotx/db databaseUrls).
   */
  DATABASE_OWNER_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
    .optional(),
  REDIS_URL: z
    .string()
    .regex(
      /^(rediss?|redis-sentinel):\/\//,
      "must be a redis://, rediss:// or redis-sentinel://host:port,host:port/<primary> URL",
    )
    .default("redis://127.0.0.1:56379"),
  ETCD_ENDPOINTS: csv.default(["http://127.0.0.1:52379"]),
  KAFKA_BROKERS: csv.default(["127.0.0.1:59092"]),
  /**
   * Prefix of every name spotx uses on the shared servers: Kafka topics, consumer groups and
   * transactional ids, etcd keys, Redis keys and the socket.io channel. Two exchanges (or a test
   * and a running exchange) sharing one Kafka, etcd and Redis stay apart by namespace.
   */
  SPOTX_NAMESPACE: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,39}$/, "lowercase letters, digits and '-', starting with a letter")
    .default("spotx"),
  /**
   * The server's secret key: 32 bytes as 64 hex characters. It signs the socket tokens (and,
   * with later issues, sessions). Required in production; `npm start` generates one into
   * .data/secret-key on first run.
   */
  SPOTX_SECRET_KEY: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, "must be 64 hex characters (32 bytes)")
    .optional(),
  /**
   * Reverse proxies in front of the HTTP servers whose X-Forwarded-For / X-Forwarded-Proto
   * are trusted (0: none, the socket's address is the client's and HTTPS is the socket's own).
   */
  SPOTX_TRUSTED_PROXIES: z.coerce.number().int().min(0).max(10).default(0),
  /** The largest request body any HTTP endpoint accepts (bytes). */
  HTTP_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(100 * 1024 * 1024)
    .default(1024 * 1024),
  /** How long an HTTP request may take, from its first byte to the end of the answer (ms). */
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  /**
   * The longest one SQL statement of web or worker may run (ms; PostgreSQL's statement_timeout
   * on every connection of the pool). A runaway query is cancelled rather than holding a
   * connection and its locks; jobs that scan everything (reconciliation) set their own.
   */
  /**
   * A bearer token that opens /metrics and the detail of /health and /ready from anywhere
   * (`Authorization: Bearer <token>`, as Prometheus sends it). Unset: only the internal
   * networks may read them.
   */
  SPOTX_METRICS_TOKEN: z
    .string()
    .min(16, "use at least 16 characters")
    .max(512)
    .regex(/^[\x21-\x7e]+$/, "printable characters without spaces")
    .optional(),
  /**
   * Client networks (CIDRs, comma-separated; "none" for none) that may read /metrics and the
   * detail of /health and /ready without the token: by default loopback and the private ranges.
   */
  SPOTX_INTERNAL_NETWORKS: z
    .string()
    .default("127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7")
    .transform((text, ctx) => {
      if (text.trim() === "none") return [];
      const entries = text
        .split(",")
        .map((e) => e.trim())
        .filter((e) => e.length > 0);
      for (const entry of entries) {
        if (!isCidr(entry)) {
          ctx.addIssue({ code: "custom", message: `${entry} is not a network like 10.0.0.0/8` });
        }
      }
      return entries;
    }),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
  /**
   * The host other instances reach this process's HTTP port at, as registered in etcd (the
   * console's scrapes, Prometheus's file discovery). Unset: the machine's host name — which,
   * in a Kubernetes pod, other pods cannot resolve; give the pod's IP there.
   */
  SPOTX_ADVERTISE_HOST: z
    .string()
    .regex(/^[A-Za-z0-9.:-]{1,253}$/, "a host name or an IP address")
    .optional(),
});

export type PlatformEnv = z.infer<typeof platformEnvSchema>;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

/** Parses a set of variables against a schema, failing with the first bad variable's name. */
export function parseEnv<T extends z.ZodTypeAny>(
  schema: T,
  source: Record<string, string | undefined> = process.env,
): z.infer<T> {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = issue?.path.join(".") || "environment";
    throw new ConfigError(variable, issue?.message ?? "invalid value");
  }
  return parsed.data;
}

let cached: PlatformEnv | undefined;

/** The process's platform configuration, parsed on first use. */
export function platformEnv(): PlatformEnv {
  cached ??= parseEnv(platformEnvSchema);
  return cached;
}
