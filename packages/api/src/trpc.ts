// tRPC is initialised once here; every router builds on the procedures defined below. Every
// procedure's errors leave labelled (errors.ts); every mutation arriving over HTTP must carry
// the CSRF header (auth/csrf.ts).
import { logger } from "@spotx/platform/logger";
import { initTRPC } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import superjson from "superjson";
import { CSRF_HEADER } from "./auth/csrf";
import type { Context } from "./context";
import { ApiError, errorLabel, toApiError } from "./errors";
import { type RateLimitClass, rateLimitAddress } from "./guards/rate-limits";

const log = logger("trpc");

const t = initTRPC.context<Context>().create({
  // superjson carries bigint and Date across the wire unchanged.
  transformer: superjson,
  errorFormatter({ shape, error, path }) {
    // Errors raised outside a procedure (building the context: Redis down) did not pass
    // `labelErrors`; label them here, with the status their label calls for.
    const labelled = toApiError(error, undefined);
    const label = errorLabel(labelled);
    // No stack frames in any answer, development included.
    const { stack: _stack, ...data } = shape.data;
    const status = { code: labelled.code, httpStatus: getHTTPStatusCodeFromError(labelled) };
    const base = { ...shape, code: TRPC_ERROR_CODES_BY_KEY[labelled.code] };
    if (label === "SERVER_ERROR") {
      // An unexpected failure is logged in full here and never shown to the caller: its
      // message may carry SQL, hostnames or stack frames.
      log.error({ err: error.cause ?? error, path }, "procedure failed");
      return { ...base, message: "internal error", data: { ...data, ...status, label } };
    }
    const retryAfterSeconds = labelled instanceof ApiError ? labelled.retryAfterSeconds : undefined;
    return {
      ...base,
      message: labelled.message,
      data: { ...data, ...status, label, retryAfterSeconds },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const middleware = t.middleware;

/** Turns ledger refusals, input errors and unavailable servers into labelled ApiErrors. */
const labelErrors = t.middleware(async ({ next, getRawInput }) => {
  const result = await next();
  if (result.ok) return result;
  const raw = await getRawInput().catch(() => undefined);
  const labelled = toApiError(result.error, raw);
  if (labelled !== result.error) throw labelled;
  return result;
});

/** A mutation over HTTP without the CSRF header is refused before anything runs. */
const csrfGuard = t.middleware(({ ctx, type, next }) => {
  if (type === "mutation" && ctx.http !== null && !ctx.http.csrfHeader) {
    throw new ApiError(
      "MISSING_REQUIRED_HEADER",
      `state-changing calls need the ${CSRF_HEADER} header (see the API's CSRF rule)`,
    );
  }
  return next();
});

/**
 * Which budget a call spends (guards/rate-limits.ts): sign-in and session calls `auth`,
 * queries `reads`, every other state change `orders` (placing, cancelling, deposits,
 * withdrawals, keys).
 */
export function rateLimitClass(path: string, type: string): RateLimitClass {
  if (path.startsWith("auth.") && type === "mutation") return "auth";
  return type === "query" ? "reads" : "orders";
}

/**
 * The account a sign-in call names, at the caller's address: the `auth` class counts per
 * (account, address) as well as per address — never per account alone, which would let anyone
 * anywhere spend an account's budget and keep its owner out (the login throttle's rule too).
 */
function accountNamed(input: unknown, ip: string | null): string | null {
  if (typeof input !== "object" || input === null || !("email" in input)) return null;
  if (typeof input.email !== "string") return null;
  const account = input.email.trim().toLowerCase().slice(0, 254);
  return `${account}@${ip === null || ip === "" ? "unknown" : rateLimitAddress(ip)}`;
}

/** HTTP calls spend their caller's rate-limit budget; in-process calls (our own renders) do not. */
const rateLimited = t.middleware(async ({ ctx, path, type, getRawInput, next }) => {
  const limits = ctx.services.rateLimits;
  if (limits === null || ctx.http === null) return next();
  const endpointClass = rateLimitClass(path, type);
  const account =
    endpointClass === "auth" ? accountNamed(await getRawInput(), ctx.request.ip) : null;
  const verdict = await limits.consume(endpointClass, {
    ip: ctx.request.ip,
    user: account ?? ctx.session?.userId ?? null,
  });
  if (!verdict.allowed) {
    throw new ApiError(
      "TOO_MANY_REQUESTS",
      `too many ${endpointClass} requests; try again in ${verdict.retryAfterSeconds} s`,
      { retryAfterSeconds: verdict.retryAfterSeconds },
    );
  }
  return next();
});

/** Open to anyone: market lists, public market data, signing in. */
export const publicProcedure = t.procedure.use(labelErrors).use(csrfGuard).use(rateLimited);

/** A signed-in user (a frozen one too: they may read; `activeProcedure` is for acting). */
export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.session) throw new ApiError("LOGIN_REQUIRED", "sign in first");
  return next({ ctx: { ...ctx, session: ctx.session } });
});

/** A signed-in user whose account is not frozen: trading, deposits, withdrawals, new API keys. */
export const activeProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (ctx.session.status !== "active") {
    throw new ApiError(
      "FORBIDDEN",
      "this account is frozen: it can sign in and read, not trade, deposit or withdraw",
    );
  }
  return next({ ctx });
});

/**
 * An active operator with two-factor sign-in on: the admin router. An operator without it is
 * signed in by their password alone, which may enrol (auth.twoFactor) and nothing more here.
 */
export const operatorProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (ctx.session.role !== "operator" || ctx.session.status !== "active") {
    throw new ApiError("FORBIDDEN", "operators only");
  }
  if (!ctx.session.twoFactor) {
    throw new ApiError(
      "TWO_FACTOR_REQUIRED",
      "operators must turn on two-factor sign-in before using the console (Account → Security)",
    );
  }
  return next({ ctx });
});
