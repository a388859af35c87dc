// `npm run stack -- up|down|status|reset|logs [server] [--lines N]`
import { ConfigError } from "@spotx/platform";
import { down, logs, reset, status, up } from "./stack";
import { StackError } from "./system";

const usage =
  "usage: npm run stack -- up|down|status|reset|logs [postgres|redis|etcd|kafka] [--lines N]";

export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case "up":
      console.log("spotx stack: starting PostgreSQL, Redis, etcd and Kafka");
      await up();
      return 0;
    case "down":
      await down();
      return 0;
    case "status":
      return (await status()) ? 0 : 1;
    case "reset":
      await reset();
      return 0;
    case "logs": {
      const linesAt = rest.indexOf("--lines");
      const lines = linesAt >= 0 ? Number(rest[linesAt + 1] ?? 50) : 50;
      const server = rest.find((arg, i) => !arg.startsWith("--") && rest[i - 1] !== "--lines");
      logs(server, lines);
      return 0;
    }
    default:
      console.error(usage);
      return 2;
  }
}

export function reportFailure(error: unknown): number {
  if (error instanceof StackError || error instanceof ConfigError) {
    console.error(`✗ ${error.message}`);
  } else {
    console.error(error);
  }
  return 1;
}
