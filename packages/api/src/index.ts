export {
  type AccessOutcome,
  authenticateHttp,
  disconnectSession,
  sessionFromAccessToken,
} from "./auth/authenticate";
export { CSRF_HEADER } from "./auth/csrf";
export {
  CLIENT_HTTPS_HEADER,
  CLIENT_IP_HEADER,
  createHttpContext,
  createServerContext,
  requestIsHttps,
} from "./auth/http-context";
export {
  REFRESH_COOKIE,
  readCookies,
  SECURE_REFRESH_COOKIE,
  SECURE_SESSION_COOKIE,
  SESSION_COOKIE,
  sessionCookieNames,
} from "./auth/session-cookies";
export { SessionStore } from "./auth/session-store";
export { SessionTokens } from "./auth/session-token";
export { type Context, createContext, type HttpExchange, type Session } from "./context";
export { API_LABELS, ApiError, type ApiLabel, errorLabel } from "./errors";
export { handleTrpcRequest, TRPC_ENDPOINT } from "./http-handler";
export { type AppRouter, appRouter, createCaller } from "./root";
export type { MarketSummary } from "./routers/markets/list";
export { type ApiServiceParts, ApiServices, apiServices, provideApiServices } from "./services";
export { type ApiSettings, apiSettings } from "./settings";
export * from "./trading/order-request";
export { PlacementBatcher, type PlacementBatcherOptions } from "./trading/placement-batcher";
export {
  type HaltSource,
  type PlacedOrder,
  TradingService,
  type TradingServiceOptions,
} from "./trading/trading-service";
