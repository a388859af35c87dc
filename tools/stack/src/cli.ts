// `npm run stack -- up|down|status|reset|logs [server] [--lines N]`
import { ConfigError } from "@spotx/platform";
import { clusterDown, clusterLogs, clusterStatus, clusterUp } from "./cluster/cluster";
import { down, logs, reset, status, up } from "./stack";
import { StackError } from "./system";

const usage =
  "usage: npm run stack -- up|down|status|reset|logs [postgres|redis|etcd|kafka] [--lines N]\n" +
  "       npm run stack -- up|down|status|logs [member] [--lines N] --cluster";

/** `--cluster`: the same commands on the clustered stack (tools/stack/src/cluster). */
async function cluster(command: string | undefined, rest: string[]): Promise<number> {
  switch (command) {
    case "up":
      console.log(
        "spotx cluster: 3 Kafka brokers, 3 etcd members, Redis primary + replica + 3 Sentinels, PostgreSQL primary + replica",
      );
      await clusterUp();
      return 0;
    case "down":
      await clusterDown();
      return 0;
    case "status":
      return (await clusterStatus()) ? 0 : 1;
    case "logs":
      clusterLogs(serverArg(rest), linesArg(rest));
      return 0;
    default:
      console.error(usage);
      return 2;
  }
}

function linesArg(rest: string[]): number {
  const at = rest.indexOf("--lines");
  return at >= 0 ? Number(rest[at + 1] ?? 50) : 50;
}
function serverArg(rest: string[]): string | undefined {
  return rest.find((arg, i) => !arg.startsWith("--") && rest[i - 1] !== "--lines");
}

export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (rest.includes("--cluster"))
    return cluster(
      command,
      rest.filter((arg) => arg !== "--cluster"),
    );
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
    case "logs":
      logs(serverArg(rest), linesArg(rest));
      return 0;
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
