// tRPC is initialised once here; every router builds on the procedures defined below.
import { logger } from "@spotx/platform/logger";
import { initTRPC } from "@trpc/server";
import superjson from "superjson";
import type { Context } from "./context";

const log = logger("trpc");

const t = initTRPC.context<Context>().create({
  // superjson carries bigint and Date across the wire unchanged.
  transformer: superjson,
  errorFormatter({ shape, error, path }) {
    if (error.code !== "INTERNAL_SERVER_ERROR") return shape;
    // An unexpected failure is logged in full here and never shown to the caller: its message
    // may carry SQL, hostnames or stack frames.
    log.error({ err: error.cause ?? error, path }, "procedure failed");
    const { stack: _stack, ...data } = shape.data;
    return { ...shape, message: "internal error", data };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Open to anyone: market lists, public market data. */
export const publicProcedure = t.procedure;
