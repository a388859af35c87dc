// The one root router: every sub-router is mounted here.
import { marketsRouter } from "./routers/markets";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  markets: marketsRouter,
});

export type AppRouter = typeof appRouter;

/** Calls procedures in-process (server components, tests) with a given context. */
export const createCaller = createCallerFactory(appRouter);
