// admin.locks: every distributed lock held now — resource, holder, fencing token, time left —
// read from Redis behind its breaker.
import { breakers } from "@spotx/platform/breakers";
import { z } from "zod";
import { operatorProcedure } from "../../trpc";

export const locksOutput = z.array(
  z.object({
    resource: z.string(),
    /** `<host>:<pid>:<random>` of the acquisition. */
    owner: z.string(),
    token: z.bigint(),
    ttlMs: z.number().int(),
  }),
);

export const locksProcedure = operatorProcedure
  .output(locksOutput)
  .query(({ ctx }) => breakers.redis.run(() => ctx.services.locks.holders()));
