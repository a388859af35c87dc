// The API's own settings (sessions, demo deposits), parsed once from process.env; the servers'
// addresses and the secret key come from @spotx/platform's env.
import { parseEnv } from "@spotx/platform";
import { z } from "zod";

const seconds = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

export const apiEnvSchema = z.object({
  /** How long a session's access token (the JWT in the session cookie) is good for. */
  SESSION_TTL_SECONDS: seconds(30, 86_400, 900),
  /**
   * How long a session lasts without use: every refresh renews it, up to 30 days after the
   * sign-in, when the user must sign in again.
   */
  SESSION_REFRESH_TTL_SECONDS: seconds(300, 2_592_000, 604_800),
  /**
   * Whether traders may credit themselves demo funds (account.demoDeposit). Unset: on in
   * development and tests, **off under NODE_ENV=production** — an exchange must never let a
   * sign-up mint money because a variable was forgotten. `npm start` (the demo) sets it on.
   */
  DEMO_DEPOSITS: z.enum(["on", "off"]).optional(),
  /** The most one demo deposit may credit, in whole units of the asset. */
  DEMO_DEPOSIT_MAX: z.coerce.number().int().min(1).max(1_000_000_000).default(100_000),
});

export type ApiEnv = z.infer<typeof apiEnvSchema>;

let cached: ApiEnv | undefined;

export function apiEnv(): ApiEnv {
  cached ??= parseEnv(apiEnvSchema);
  return cached;
}
