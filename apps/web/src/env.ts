// The web server's own settings; the servers' addresses come from @spotx/platform's env.
import { parseEnv } from "@spotx/platform";
import { defaultInstanceId } from "@spotx/platform/service-registry";
import { z } from "zod";

/** Its variables (the README's configuration table is checked against this). */
export const webEnvSchema = z.object({
  WEB_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  WEB_HOST: z.string().min(1).default("0.0.0.0"),
  WEB_INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, "letters, digits, '.', '_' or '-' only")
    .default(defaultInstanceId("web")),
  /**
   * WebSocket connections (gate.io's /ws/v4/ and socket.io, counted apart) one client address
   * may hold on this instance — an IPv6 client by its /64; beyond it the upgrade is refused (429).
   */
  WS_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(50),
});

export const webEnv = parseEnv(webEnvSchema);
