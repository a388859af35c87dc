// Publishing to socket.io rooms from a process that holds no sockets (the worker): the Redis
// emitter, on the channel prefix the web servers' Redis adapter listens to, so every web
// instance delivers the same message to its own clients in that room.
import { Emitter } from "@socket.io/redis-emitter";
import type { EventsMap } from "@socket.io/redis-emitter/dist/typed-events";
import { metrics } from "./metrics";
import type { Redis } from "./redis";
import { type Topology, topology } from "./topology";

export type SocketEmitter<Events extends EventsMap> = Emitter<Events>;

/**
 * An emitter over `redis`. The emitter publishes without waiting for Redis' answer; a failed
 * PUBLISH (Redis unreachable) is counted as a dependency error instead of surfacing as an
 * unhandled rejection that would stop the process — a live update is lost, and the next
 * snapshot a client asks for repairs its view.
 */
export function createSocketEmitter<Events extends EventsMap>(
  redis: Redis,
  names: Topology = topology(),
): SocketEmitter<Events> {
  const publisher = {
    publish: (channel: string, message: Buffer | string) =>
      redis.publish(channel, message).catch(() => {
        metrics.dependencyErrors.inc({ dependency: "redis" });
        return 0;
      }),
  };
  return new Emitter<Events>(publisher, { key: names.redis.socketIoKey });
}
