// gate.io's WebSocket trading API on /ws/v4/ (`event: "api"`): `spot.login` and the order
// channels. Each channel is answered by the REST endpoint that does the same thing (routes.ts):
// the same handler — so the same parsing, checks, labels and answers, through the same trading
// service — the same permission rule and the same rate-limit budgets, in gate.io's frame
// `{request_id, ack?, header: {status, …}, data: {result} | {errs: {label, message}}}`.
//
// Who is asking: a request signed in its payload (api_key, signature, timestamp, over its own
// `req_param` text as sent) is its key's, logged in or not; an unsigned one is the key the
// connection logged in with, re-read on each request (through the authenticator's short-lived
// cache, emptied when credentials change) so a key revoked or a user frozen since is refused at
// once. An unsigned request sent while a login is still being verified waits for its outcome.
import { randomBytes } from "node:crypto";
import type { Logger } from "@spotx/platform/logger";
import { z } from "zod";
import { type RateLimits, type RateLimitVerdict, rateLimitHeaders } from "../guards/rate-limits";
import { type ApiCaller, type ApiKeyAuthenticator, SIGNATURE_WINDOW_SECONDS } from "./authenticate";
import type { GateServices } from "./call";
import { GateError, toGateError } from "./errors";
import { jsonMemberText } from "./json-member-text";
import { checkRequestExpiry } from "./request-expiry";
import { parseParams } from "./request-params";
import { microseconds, permitRoute, spendRateLimit } from "./rest-api";
import { GATE_ROUTES, type GateRoute } from "./routes";

/** The path parameters, query and body of the REST request an order channel's `req_param` is. */
type RestRequest = {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
};

type Operation = {
  /** The REST route that answers it: method and path as routes.ts names them. */
  route: (param: unknown) => string;
  /** The request, from `req_param` (read once the caller is known, as REST reads a body). */
  request: (param: unknown) => RestRequest;
};

const BY_ORDER_ID = (param: unknown): RestRequest => {
  const { order_id, ...rest } = object(param);
  return { params: { order_id: orderId(order_id) }, query: query(rest) };
};

/** The channels, each with the REST route and request its `req_param` is. */
const OPERATIONS = {
  // One order (POST /spot/orders) or, given an array, a batch (POST /spot/batch_orders).
  "spot.order_place": {
    route: (param) => (Array.isArray(param) ? "POST /spot/batch_orders" : "POST /spot/orders"),
    request: (param) => ({ body: param }),
  },
  "spot.order_cancel": { route: () => "DELETE /spot/orders/{order_id}", request: BY_ORDER_ID },
  "spot.order_cancel_ids": {
    route: () => "POST /spot/cancel_batch_orders",
    request: (param) => ({ body: param }),
  },
  "spot.order_cancel_cp": {
    route: () => "DELETE /spot/orders",
    request: (param) => ({ query: query(param) }),
  },
  // The body takes precedence over the query in PATCH: everything but the id goes in the body.
  "spot.order_amend": {
    route: () => "PATCH /spot/orders/{order_id}",
    request: (param) => {
      const { order_id, ...rest } = object(param);
      return { params: { order_id: orderId(order_id) }, body: rest };
    },
  },
  "spot.order_status": { route: () => "GET /spot/orders/{order_id}", request: BY_ORDER_ID },
  "spot.order_list": {
    route: () => "GET /spot/orders",
    request: (param) => ({ query: query(param) }),
  },
} satisfies Record<string, Operation>;

type OrderChannel = keyof typeof OPERATIONS;

/** Every channel the trading API serves. */
export const WS_API_CHANNELS: readonly string[] = ["spot.login", ...Object.keys(OPERATIONS)];

/** The channels whose answers carry the rate-limit fields (gate.io: placing and amending). */
const WITH_RATE_LIMIT_FIELDS: ReadonlySet<string> = new Set([
  "spot.order_place",
  "spot.order_amend",
]);

function object(param: unknown): Record<string, unknown> {
  if (param === undefined) return {};
  if (typeof param !== "object" || param === null || Array.isArray(param)) {
    throw new GateError("INVALID_PARAM_VALUE", "req_param must be a JSON object");
  }
  return param as Record<string, unknown>;
}

function orderId(value: unknown): string {
  if (value === undefined || value === null || value === "") {
    throw new GateError("MISSING_REQUIRED_PARAM", "missing required parameter: order_id");
  }
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  throw new GateError("INVALID_PARAM_VALUE", "invalid order_id: must be an order id or a text");
}

/**
 * `req_param` as the query string a GET or DELETE would carry: strings as they are, numbers and
 * booleans as their text (clients send `page: 1`), null or absent members left out.
 */
function query(param: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(object(param))) {
    if (value === null || value === undefined) continue;
    if (typeof value === "string") out[name] = value;
    else if (typeof value === "number" || typeof value === "boolean") out[name] = String(value);
    else
      throw new GateError("INVALID_PARAM_VALUE", `invalid ${name}: must be a string or a number`);
  }
  return out;
}

const envelope = z.object({
  time: z.number().int(),
  id: z.number().int().optional(),
  channel: z.string().min(1).max(64),
  event: z.literal("api"),
  payload: z.object({
    req_id: z.union([z.string().max(128), z.number()]),
    req_param: z.unknown().optional(),
    req_header: z.record(z.string(), z.unknown()).nullable().optional(),
    api_key: z.string().max(200).optional(),
    signature: z.string().max(200).optional(),
    timestamp: z.union([z.string().max(32), z.number().int()]).optional(),
  }),
});
type Envelope = z.infer<typeof envelope>;

/** The `x-gate-exptime` of a `req_header` (header names are case-insensitive; others ignored). */
function expiryOf(header: Envelope["payload"]["req_header"]): unknown {
  return Object.entries(header ?? {}).find(
    ([name]) => name.toLowerCase() === "x-gate-exptime",
  )?.[1];
}

/** gate.io's rate-limit fields of a response header, from the REST answer's headers. */
function rateLimitFields(headers: Record<string, string>): Record<string, number> {
  const limit = headers["X-Gate-RateLimit-Limit"];
  const remain = headers["X-Gate-RateLimit-Requests-Remain"];
  const reset = headers["X-Gate-RateLimit-Reset-Timestamp"];
  if (limit === undefined || remain === undefined || reset === undefined) return {};
  return {
    x_gate_ratelimit_requests_remain: Number(remain),
    x_gate_ratelimit_limit: Number(limit),
    // gate.io's documentation spells it both ways: the first is what its field table says.
    x_gat_ratelimit_reset_timestamp: Number(reset),
    x_gate_ratelimit_reset_timestamp: Number(reset),
  };
}

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

/** One connection's standing with the trading API. */
export type WsApiSession = {
  ip: string | null;
  /** The key it logged in with (null: none), a promise while a login is being verified. */
  login: Promise<ApiCaller | null>;
  connId: string;
  connTraceId: string;
  clientId: string;
};

export type WsTradingApiOptions = {
  services: GateServices;
  authenticator: ApiKeyAuthenticator;
  rateLimits: RateLimits;
  log: Logger;
  /** The REST routes whose handlers answer the channels (GATE_ROUTES). */
  routes?: readonly GateRoute[];
};

type Reply = (frame: unknown) => void;

export class GateWsTradingApi {
  private readonly routes: ReadonlyMap<string, GateRoute>;

  constructor(private readonly options: WsTradingApiOptions) {
    this.routes = new Map(
      (options.routes ?? GATE_ROUTES).map((route) => [`${route.method} ${route.path}`, route]),
    );
  }

  /** A connection's standing, not logged in. */
  session(ip: string | null): WsApiSession {
    const connId = hex(8);
    return {
      ip,
      login: Promise.resolve(null),
      connId,
      connTraceId: hex(16),
      clientId: `${ip ?? ""}-0x${connId}`,
    };
  }

  /**
   * Answers one `event: "api"` message: `text` as received, `message` what JSON.parse made of
   * it. Never throws: every failure is answered in gate.io's frame.
   */
  async handle(session: WsApiSession, text: string, message: unknown, reply: Reply) {
    const inTime = microseconds();
    const raw = (typeof message === "object" && message !== null ? message : {}) as Record<
      string,
      unknown
    >;
    const payload = (
      typeof raw.payload === "object" && raw.payload !== null ? raw.payload : {}
    ) as {
      req_id?: unknown;
    };
    const frame = {
      session,
      inTime,
      traceId: hex(16),
      channel: typeof raw.channel === "string" ? raw.channel : "",
      requestId:
        typeof payload.req_id === "string" || typeof payload.req_id === "number"
          ? payload.req_id
          : "",
    };
    let rate: Record<string, number> = {};
    try {
      const request = parseParams(envelope, raw);
      const nowMs = Date.now();
      if (Math.abs(nowMs / 1000 - request.time) > SIGNATURE_WINDOW_SECONDS) {
        throw new GateError(
          "REQUEST_EXPIRED",
          `time is more than ${SIGNATURE_WINDOW_SECONDS} s away from the server's time`,
        );
      }
      checkRequestExpiry(expiryOf(request.payload.req_header), nowMs);
      // What the client signed: the req_param member's text as sent, "" when there is none.
      const reqParam = jsonMemberText(text, ["payload", "req_param"]) ?? "";
      if (request.channel === "spot.login") {
        const caller = await this.login(session, request, reqParam);
        reply(
          this.frame(frame, 200, { result: { api_key: caller.key, uid: String(caller.userId) } }),
        );
        return;
      }
      const operation: Operation | undefined = Object.hasOwn(OPERATIONS, request.channel)
        ? OPERATIONS[request.channel as OrderChannel]
        : undefined;
      if (!operation) {
        throw new GateError(
          "INVALID_PARAM_VALUE",
          `unknown channel ${request.channel}; the trading API serves ${WS_API_CHANNELS.join(", ")}`,
        );
      }
      const param = request.payload.req_param;
      const routeName = operation.route(param);
      const route = this.routes.get(routeName);
      if (!route) throw new GateError("NOT_FOUND", `${routeName} is not served`);
      // As REST does: the address's budget before authentication, the user's and key's after.
      const { rateLimits } = this.options;
      let verdict: RateLimitVerdict = await spendRateLimit(
        rateLimits,
        route.rateClass,
        { ip: session.ip },
        null,
      );
      const caller = await this.caller(session, request, reqParam, route.access === "trade");
      permitRoute(route, caller);
      verdict = await spendRateLimit(
        rateLimits,
        route.rateClass,
        { user: caller.userId, key: caller.key },
        verdict,
      );
      if (WITH_RATE_LIMIT_FIELDS.has(request.channel)) {
        rate = rateLimitFields(rateLimitHeaders(verdict));
      }
      if (request.channel === "spot.order_place") {
        reply(
          this.frame(
            frame,
            200,
            {
              result: {
                req_id: request.payload.req_id,
                req_header: request.payload.req_header ?? null,
                req_param: request.payload.req_param ?? null,
                api_key: "",
                timestamp: "",
                signature: "",
              },
            },
            { ack: true, rate },
          ),
        );
      }
      const rest: RestRequest = operation.request(param);
      const answer = await route.handle({
        services: this.options.services,
        params: rest.params ?? {},
        query: rest.query ?? {},
        body: rest.body,
        caller,
      });
      reply(this.frame(frame, 200, { result: answer.body }, { rate }));
    } catch (error) {
      const failure = toGateError(error, this.options.log, { channel: frame.channel });
      if (failure.label === "TOO_MANY_REQUESTS") rate = rateLimitFields(failure.headers);
      reply(
        this.frame(
          frame,
          failure.status,
          { errs: { label: failure.label, message: failure.message } },
          { rate },
        ),
      );
    }
  }

  /**
   * `spot.login`: the connection's key from now on — or none, should this login fail in any way
   * (after the envelope's checks: a login refused for its `time` or its expiry changes nothing).
   */
  private login(session: WsApiSession, request: Envelope, reqParam: string): Promise<ApiCaller> {
    const { rateLimits, authenticator } = this.options;
    const attempt = (async () => {
      await spendRateLimit(rateLimits, "reads", { ip: session.ip }, null);
      const { api_key, signature } = request.payload;
      if (!api_key || !signature) {
        throw new GateError(
          "MISSING_REQUIRED_HEADER",
          "spot.login needs api_key, signature and timestamp in its payload",
        );
      }
      const caller = await authenticator.authenticateApi({
        key: api_key,
        sign: signature,
        channel: request.channel,
        reqParam,
        timestamps: timestamps(request),
        changes: false,
        ip: session.ip,
      });
      await spendRateLimit(rateLimits, "reads", { user: caller.userId, key: caller.key }, null);
      return caller;
    })();
    // Unsigned requests sent meanwhile wait for this outcome.
    session.login = attempt.catch(() => null);
    return attempt;
  }

  /** Who sent an order channel's request: its own signature's key, else the login's. */
  private async caller(
    session: WsApiSession,
    request: Envelope,
    reqParam: string,
    changes: boolean,
  ): Promise<ApiCaller> {
    const { api_key, signature } = request.payload;
    const { authenticator } = this.options;
    if (api_key || signature) {
      if (!api_key || !signature) {
        throw new GateError(
          "MISSING_REQUIRED_HEADER",
          "a signed request needs api_key and signature in its payload",
        );
      }
      return authenticator.authenticateApi({
        key: api_key,
        sign: signature,
        channel: request.channel,
        reqParam,
        timestamps: timestamps(request),
        changes,
        ip: session.ip,
      });
    }
    const login = await session.login;
    if (!login) throw new GateError("AUTHENTICATION_FAILED", "Not login");
    try {
      return await authenticator.current(login.key, session.ip);
    } catch (error) {
      // The key was revoked since the login: the connection is logged out.
      if (error instanceof GateError && error.label === "INVALID_KEY") {
        session.login = Promise.resolve(null);
      }
      throw error;
    }
  }

  private frame(
    request: {
      session: WsApiSession;
      inTime: number;
      traceId: string;
      channel: string;
      requestId: string | number;
    },
    status: number,
    data: unknown,
    extra: { ack?: boolean; rate?: Record<string, number> } = {},
  ) {
    const { session } = request;
    return {
      request_id: request.requestId,
      ...(extra.ack ? { ack: true } : {}),
      header: {
        response_time: String(Date.now()),
        status: String(status),
        channel: request.channel,
        event: "api",
        client_id: session.clientId,
        x_in_time: request.inTime,
        x_out_time: microseconds(),
        conn_id: session.connId,
        conn_trace_id: session.connTraceId,
        trace_id: request.traceId,
        ...extra.rate,
      },
      data,
    };
  }
}

/**
 * The timestamps a client may have signed, in seconds: the envelope's `time` (ccxt's and tsb's
 * choice), and the payload's `timestamp` when it differs (gate.io's example sets both alike).
 */
function timestamps(request: Envelope): string[] {
  const time = String(request.time);
  const given = request.payload.timestamp;
  return given === undefined || String(given) === time ? [time] : [time, String(given)];
}
