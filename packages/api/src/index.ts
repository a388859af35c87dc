export { type Context, createContext } from "./context";
export { type AppRouter, appRouter, createCaller } from "./root";
export type { MarketSummary } from "./routers/markets";
