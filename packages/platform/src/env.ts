// The shared infrastructure configuration, parsed once from process.env. Every server's
// address has a default pointing at the local stack (tools/stack); setting the variable
// points spotx at a real cluster instead, and the stack then leaves that server alone.
import { z } from "zod";

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
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
    .default("postgres://spotx:spotx@127.0.0.1:55432/spotx"),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// URL")
    .default("redis://127.0.0.1:56379"),
  ETCD_ENDPOINTS: csv.default(["http://127.0.0.1:52379"]),
  KAFKA_BROKERS: csv.default(["127.0.0.1:59092"]),
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
