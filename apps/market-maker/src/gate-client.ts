// A small client of the exchange's gate.io-compatible REST API, signed as gate.io's clients
// sign: SIGN = hex(HMAC_SHA512(secret, METHOD\nPATH\nQUERY\nhex(SHA512(BODY))\nTimestamp)).
// The market maker is a trading program like any other: this API is all it uses to trade.
import { createHash, createHmac } from "node:crypto";

export type GateCredentials = { key: string; secret: string };

/** A refusal the API answered with (its gate.io label), or a transport failure. */
export class GateRefusal extends Error {
  constructor(
    readonly status: number,
    readonly label: string,
    message: string,
    /** Seconds to wait, from Retry-After (429, 503). */
    readonly retryAfterSeconds: number | null,
  ) {
    super(`${label}: ${message}`);
    this.name = "GateRefusal";
  }
}

export class GateClient {
  private readonly prefix: string;
  private lastTimestamp = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly credentials: GateCredentials,
  ) {
    this.prefix = new URL(baseUrl).pathname.replace(/\/$/, "");
  }

  /** A public GET (no signature). */
  async publicGet<T>(path: string, query = ""): Promise<T> {
    return this.send<T>("GET", path, query, "", false);
  }

  async get<T>(path: string, query = ""): Promise<T> {
    return this.send<T>("GET", path, query, "", true);
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return this.send<T>("POST", path, "", JSON.stringify(body), true);
  }

  async delete<T>(path: string, query = ""): Promise<T> {
    return this.send<T>("DELETE", path, query, "", true);
  }

  /**
   * Seconds with milliseconds, strictly increasing: the exchange accepts a signed change once,
   * so two identical requests must differ in their Timestamp (gate.io's SDKs do the same).
   */
  private timestamp(): string {
    const now = Math.max(Date.now(), this.lastTimestamp + 1);
    this.lastTimestamp = now;
    return (now / 1000).toFixed(3);
  }

  private async send<T>(
    method: string,
    path: string,
    query: string,
    body: string,
    signed: boolean,
  ): Promise<T> {
    const fullPath = `${this.prefix}${path}`;
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== "") headers["content-type"] = "application/json";
    if (signed) {
      const timestamp = this.timestamp();
      const payload = [
        method,
        fullPath,
        query,
        createHash("sha512").update(body).digest("hex"),
        timestamp,
      ].join("\n");
      headers.KEY = this.credentials.key;
      headers.Timestamp = timestamp;
      headers.SIGN = createHmac("sha512", this.credentials.secret).update(payload).digest("hex");
    }
    const url = new URL(this.baseUrl);
    const response = await fetch(`${url.origin}${fullPath}${query ? `?${query}` : ""}`, {
      method,
      headers,
      body: body === "" ? undefined : body,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (!response.ok) {
      let label = "SERVER_ERROR";
      let message = text.slice(0, 200);
      try {
        const parsed = JSON.parse(text) as { label?: unknown; message?: unknown };
        if (typeof parsed.label === "string") label = parsed.label;
        if (typeof parsed.message === "string") message = parsed.message;
      } catch {
        // Not JSON: keep the raw text's start as the message.
      }
      const retry = Number(response.headers.get("retry-after"));
      throw new GateRefusal(
        response.status,
        label,
        message,
        Number.isFinite(retry) && retry > 0 ? retry : null,
      );
    }
    return JSON.parse(text) as T;
  }
}
