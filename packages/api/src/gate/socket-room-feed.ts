// What the WebSocket API pushes comes from where the browsers' pushes come from: the messages
// market data and settlement publish to socket.io rooms through the Redis emitter. This reads
// them straight off the Redis adapter's channel (`<socketIoKey>#/#<room>#`, msgpack-encoded
// `[uid, packet, {rooms}]` — the emitter protocol every socket.io adapter speaks), so no second
// publication is needed and a WebSocket client sees exactly what a browser sees, in the same
// order. Only rooms someone listens to are decoded.
import type { Logger } from "@spotx/platform/logger";
import type { Redis } from "@spotx/platform/redis";
import type { Topology } from "@spotx/platform/topology";
import { decode } from "notepack.io";

export type RoomListener = (event: string, payload: unknown) => void;

/** socket.io's EVENT packet type. */
const EVENT = 2;

export class SocketRoomFeed {
  private subscriber: Redis | undefined;
  private readonly listeners = new Map<string, Set<RoomListener>>();
  private readonly prefix: string;

  constructor(private readonly options: { redis: Redis; names: Topology; log: Logger }) {
    this.prefix = `${options.names.redis.socketIoKey}#/#`;
  }

  /** Subscribes (again, after a failed attempt: the previous connection is dropped). */
  async start(): Promise<void> {
    this.subscriber?.disconnect();
    const subscriber = this.options.redis.duplicate();
    this.subscriber = subscriber;
    subscriber.on("error", (error: unknown) =>
      this.options.log.debug({ err: error }, "socket room feed connection error"),
    );
    subscriber.on("pmessageBuffer", (_pattern: string, channel: Buffer, message: Buffer) =>
      this.receive(channel.toString(), message),
    );
    await subscriber.psubscribe(`${this.prefix}*`);
  }

  async stop(): Promise<void> {
    this.subscriber?.disconnect();
    this.subscriber = undefined;
    this.listeners.clear();
  }

  /** Calls `listener` with every event sent to `room`; returns the way to stop. */
  listen(room: string, listener: RoomListener): () => void {
    let set = this.listeners.get(room);
    if (!set) {
      set = new Set();
      this.listeners.set(room, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(room);
      current?.delete(listener);
      if (current?.size === 0) this.listeners.delete(room);
    };
  }

  private receive(channel: string, message: Buffer) {
    if (!channel.startsWith(this.prefix)) return;
    // A message for one room names it in the channel; one for several lists them inside.
    const named = channel.slice(this.prefix.length, -1);
    if (named !== "" && !this.listeners.has(named)) return;
    let decoded: unknown;
    try {
      decoded = decode(message);
    } catch (error) {
      this.options.log.warn({ err: error, channel }, "undecodable socket.io adapter message");
      return;
    }
    if (!Array.isArray(decoded)) return;
    const [, packet, opts] = decoded as [unknown, unknown, unknown];
    if (typeof packet !== "object" || packet === null) return;
    const { type, data } = packet as { type?: unknown; data?: unknown };
    if (type !== EVENT || !Array.isArray(data) || typeof data[0] !== "string") return;
    const rooms =
      named !== ""
        ? [named]
        : typeof opts === "object" &&
            opts !== null &&
            Array.isArray((opts as { rooms?: unknown }).rooms)
          ? ((opts as { rooms: unknown[] }).rooms.filter((r) => typeof r === "string") as string[])
          : [];
    for (const room of rooms) {
      for (const listener of this.listeners.get(room) ?? []) {
        try {
          listener(data[0], data[1]);
        } catch (error) {
          this.options.log.error({ err: error, room }, "a WebSocket feed listener failed");
        }
      }
    }
  }
}
