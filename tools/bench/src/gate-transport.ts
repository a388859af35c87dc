// The flow's commands through the web server's gate.io REST API, as a trading program sends
// them: `POST /api/v4/spot/orders` and `DELETE /api/v4/spot/orders/{id}?currency_pair=…`, each
// signed with the trader's own key exactly as gate.io documents it —
//   SIGN = hex(HMAC_SHA512(secret, METHOD \n PATH \n QUERY \n hex(SHA512(BODY)) \n Timestamp))
// with KEY, Timestamp and SIGN headers — over keep-alive connections (one agent per generator
// process, up to `connections` sockets). Written here from gate.io's description rather than
// imported from the server's code, so a mismatch between the two shows up as refusals.
import { createHash, createHmac } from "node:crypto";
import http from "node:http";
import type { LimitOrder, Transport } from "./traders";

export type GateCredentials = { key: string; secret: string };

const PREFIX = "/api/v4";

export function signGateRequest(
  secret: string,
  request: { method: string; path: string; query: string; body: string; timestamp: string },
): string {
  const bodyHash = createHash("sha512").update(request.body).digest("hex");
  const payload = [request.method, request.path, request.query, bodyHash, request.timestamp].join(
    "\n",
  );
  return createHmac("sha512", secret).update(payload).digest("hex");
}

type Answer = { status: number; text: string };

export class GateTransport implements Transport {
  private readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(
    baseUrl: string,
    private readonly keys: ReadonlyMap<bigint, GateCredentials>,
    connections: number,
    /** How long a request may wait for its answer. */
    private readonly requestTimeoutMs = 60_000,
  ) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port || 80);
    // Keep-alive; Node honours the server's `Keep-Alive: timeout=…` and retires an idle socket
    // before the server closes it, so a reused connection is not reset under a request.
    this.agent = new http.Agent({
      keepAlive: true,
      maxSockets: connections,
      maxFreeSockets: connections,
    });
  }

  async place(userId: bigint, order: LimitOrder): Promise<{ orderId: bigint } | { error: string }> {
    const body = JSON.stringify({
      currency_pair: order.market,
      type: "limit",
      account: "spot",
      side: order.side,
      amount: order.amount,
      price: order.price,
      time_in_force: order.timeInForce,
    });
    const answer = await this.send(userId, "POST", `${PREFIX}/spot/orders`, "", body);
    if ("error" in answer) return answer;
    if (answer.status !== 201) return { error: refusal(answer) };
    try {
      const { id } = JSON.parse(answer.text) as { id?: unknown };
      if (typeof id !== "string" || !/^\d+$/.test(id)) return { error: "NO_ORDER_ID" };
      return { orderId: BigInt(id) };
    } catch {
      return { error: "BAD_JSON" };
    }
  }

  async cancel(userId: bigint, market: string, orderId: string): Promise<{ error: string | null }> {
    const query = `currency_pair=${encodeURIComponent(market)}`;
    const answer = await this.send(
      userId,
      "DELETE",
      `${PREFIX}/spot/orders/${encodeURIComponent(orderId)}`,
      query,
      "",
    );
    if ("error" in answer) return answer;
    return { error: answer.status === 200 ? null : refusal(answer) };
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private send(
    userId: bigint,
    method: "POST" | "DELETE",
    path: string,
    query: string,
    body: string,
  ): Promise<Answer | { error: string }> {
    const credentials = this.keys.get(userId);
    if (!credentials) return Promise.resolve({ error: "NO_KEY_FOR_TRADER" });
    const timestamp = (Date.now() / 1000).toFixed(3);
    const headers: http.OutgoingHttpHeaders = {
      Accept: "application/json",
      KEY: credentials.key,
      Timestamp: timestamp,
      SIGN: signGateRequest(credentials.secret, { method, path, query, body, timestamp }),
    };
    if (body !== "") {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = Buffer.byteLength(body);
    }
    return new Promise((resolve) => {
      const request = http.request(
        {
          agent: this.agent,
          host: this.host,
          port: this.port,
          method,
          path: query === "" ? path : `${path}?${query}`,
          headers,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () =>
            resolve({
              status: response.statusCode ?? 0,
              text: Buffer.concat(chunks).toString("utf8"),
            }),
          );
          response.on("error", (error) => resolve({ error: networkLabel(error) }));
        },
      );
      // A request the server never answers must not hold the phase (its end waits for every
      // answer): given up after requestTimeoutMs, counted as a refusal.
      request.setTimeout(this.requestTimeoutMs, () => {
        request.destroy(Object.assign(new Error("no answer"), { code: "TIMEOUT" }));
      });
      request.on("error", (error) => resolve({ error: networkLabel(error) }));
      request.end(body === "" ? undefined : body);
    });
  }
}

/** gate.io's `{label, message}`; else the status. */
function refusal(answer: Answer): string {
  try {
    const { label } = JSON.parse(answer.text) as { label?: unknown };
    if (typeof label === "string" && label !== "") return label;
  } catch {
    // not JSON: the status says enough
  }
  return `HTTP_${answer.status}`;
}

function networkLabel(error: Error & { code?: string }): string {
  return `NETWORK_${error.code ?? error.name}`;
}
