// The one root router: every sub-router is mounted here.
import { accountRouter } from "./routers/account";
import { adminRouter } from "./routers/admin";
import { authRouter } from "./routers/auth";
import { marketsRouter } from "./routers/markets";
import { ordersRouter } from "./routers/orders";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  auth: authRouter,
  markets: marketsRouter,
  orders: ordersRouter,
  account: accountRouter,
  admin: adminRouter,
});

export type AppRouter = typeof appRouter;

/** Calls procedures in-process (server components, tests) with a given context. */
export const createCaller = createCallerFactory(appRouter);
