// The two database connections: DATABASE_URL, what web and worker connect with (the
// least-privilege app role by default), and DATABASE_OWNER_URL, what migrations run as (the
// role that owns the tables). Setting only DATABASE_URL points both at it: one role, as on a
// managed database where the user chose not to split them; then no grants are applied.
import { ConfigError, parseEnv, platformEnvSchema } from "@spotx/platform";
import { LedgerError } from "./errors";

/** The local stack's owner role (tools/stack creates it). */
export const DEFAULT_OWNER_URL = "postgres://spotx_owner:spotx_owner@127.0.0.1:55432/spotx";

export type DatabaseUrls = { appUrl: string; ownerUrl: string };

export function databaseUrls(
  source: Record<string, string | undefined> = process.env,
): DatabaseUrls {
  if (typeof source !== "object" || source === null) {
    throw new LedgerError("INVALID_PARAM_VALUE", "databaseUrls reads an environment object");
  }
  let env: ReturnType<typeof parseEnv<typeof platformEnvSchema>>;
  try {
    env = parseEnv(platformEnvSchema, source);
  } catch (error) {
    if (error instanceof ConfigError) throw new LedgerError("INVALID_PARAM_VALUE", error.message);
    throw error;
  }
  const appUrl = env.DATABASE_URL;
  const ownerUrl = env.DATABASE_OWNER_URL ?? (source.DATABASE_URL ? appUrl : DEFAULT_OWNER_URL);
  return { appUrl, ownerUrl };
}

/** A postgres:// URL, else INVALID_PARAM_VALUE. */
export function requirePostgresUrl(url: unknown, what: string): string {
  if (typeof url !== "string" || !/^postgres(ql)?:\/\/[^\s]+$/.test(url) || !URL.canParse(url)) {
    throw new LedgerError("INVALID_PARAM_VALUE", `${what} must be a postgres:// URL`);
  }
  return url;
}

/** The user name in a postgres:// URL. */
export function urlUser(url: string): string {
  return decodeURIComponent(new URL(requirePostgresUrl(url, "url")).username);
}
