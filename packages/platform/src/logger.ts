// pino JSON logging for every process. A child logger per component; the request or order id
// travels as a field (and through Kafka headers) so one order can be followed across services.
import { pino } from "pino";
import { platformEnv } from "./env";
import { processSingleton } from "./probe";

export type { Logger } from "pino";

export function rootLogger() {
  return processSingleton("logger", () =>
    pino({
      level: platformEnv().LOG_LEVEL,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    }),
  );
}

export function logger(component: string) {
  return rootLogger().child({ component });
}
