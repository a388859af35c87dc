// The gate.io API v4 compatibility layer's public surface (`@spotx/api/gate`): the REST front
// door, the WebSocket server, and the pieces they are composed from.
export {
  type ApiCaller,
  ApiKeyAuthenticator,
  addressAllowed,
  KEY_CACHE_MS,
  SIGNATURE_WINDOW_SECONDS,
} from "./authenticate";
export type { GateAnswer, GateCall, GateServices } from "./call";
export { CountdownCancels, type CountdownOptions } from "./countdown";
export { GATE_LABEL_STATUS, GateError, type GateLabel, toGateError } from "./errors";
export { type GateMarket, MarketDirectory } from "./market-directory";
export { type OrderObject, orderObject } from "./order-object";
export { GATE_MAX_BODY_BYTES, GATE_PREFIX, GateRestApi, type GateRestApiOptions } from "./rest-api";
export { GATE_ROUTES, type GateRoute, GateRouter } from "./routes";
export { SettledOrders } from "./settled-orders";
export {
  bodyHash,
  EMPTY_BODY_HASH,
  type RequestToSign,
  signApiRequest,
  signaturePayload,
  signaturesMatch,
  signChannel,
  signRequest,
} from "./signature";
export {
  GATE_WS_PATHS,
  type GateWebSocketOptions,
  GateWebSocketServer,
  WS_ERROR,
} from "./websocket";
export { GateWsTradingApi, WS_API_CHANNELS, type WsApiSession } from "./ws-trading";
