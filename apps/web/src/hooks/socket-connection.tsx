"use client";
// The page's one socket.io connection (market rooms, and the user's room when the session
// cookie says who is signed in), its visible state, and room subscriptions shared by every
// live hook: two components watching the same room subscribe once, and every subscription is
// made again after a reconnect (the server forgets rooms with the connection).
import type { ClientToServerEvents, ServerToClientEvents, SubscribeRequest } from "@spotx/protocol";
import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
} from "react";
import { io, type Socket } from "socket.io-client";

export type SpotxSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** What the header shows: connecting at first, live, reconnecting after a drop, offline. */
export type ConnectionState = "connecting" | "live" | "reconnecting" | "offline";

type SocketContextValue = {
  socket: SpotxSocket | null;
  state: ConnectionState;
  /** Subscribes to a room until the returned function is called. */
  subscribe(request: SubscribeRequest): () => void;
  /** Connects again, so a login or logout changes which user room the socket is in. */
  reconnect(): void;
};

const SocketContext = createContext<SocketContextValue | null>(null);

const roomKey = (r: SubscribeRequest) => `${r.channel}:${r.market}:${r.interval ?? ""}`;

/** A refusal worth asking again for (no book snapshot yet, a server briefly unavailable). */
const RETRIED = new Set(["SERVER_ERROR", "SERVICE_UNAVAILABLE"]);
const RETRY_MS = 2_000;

/** Joins a room; a transient refusal is asked again while `wanted()` still says so. */
function joinRoom(client: SpotxSocket, request: SubscribeRequest, wanted: () => boolean) {
  client.emit("subscribe", request, (reply) => {
    if (reply.ok || !RETRIED.has(reply.error.label)) return;
    window.setTimeout(() => {
      if (wanted() && client.connected) joinRoom(client, request, wanted);
    }, RETRY_MS);
  });
}

export function SocketProvider({ children }: { children: ReactNode }) {
  const [socket, setSocket] = useState<SpotxSocket | null>(null);
  const [state, setState] = useState<ConnectionState>("connecting");
  // Rooms wanted by mounted hooks, with how many hooks want each.
  const [rooms] = useState(() => new Map<string, { request: SubscribeRequest; count: number }>());

  useEffect(() => {
    // Websocket only: long-polling would need sticky sessions behind a load balancer.
    const client: SpotxSocket = io({ path: "/socket.io", transports: ["websocket"] });
    let everConnected = false;
    client.on("connect", () => {
      everConnected = true;
      setState("live");
      for (const { request } of rooms.values()) {
        joinRoom(client, request, () => rooms.has(roomKey(request)));
      }
    });
    client.on("disconnect", () => setState(everConnected ? "reconnecting" : "connecting"));
    client.io.on("reconnect_failed", () => setState("offline"));
    client.on("connect_error", () => setState(everConnected ? "reconnecting" : "connecting"));
    const offline = () => setState("offline");
    const online = () => {
      if (!client.connected) client.connect();
    };
    window.addEventListener("offline", offline);
    window.addEventListener("online", online);
    setSocket(client);
    return () => {
      window.removeEventListener("offline", offline);
      window.removeEventListener("online", online);
      client.removeAllListeners();
      client.disconnect();
    };
  }, [rooms]);

  const subscribe = useCallback(
    (request: SubscribeRequest) => {
      const key = roomKey(request);
      const held = rooms.get(key);
      if (held) held.count += 1;
      else {
        rooms.set(key, { request, count: 1 });
        if (socket?.connected) joinRoom(socket, request, () => rooms.has(key));
      }
      return () => {
        const entry = rooms.get(key);
        if (!entry) return;
        entry.count -= 1;
        if (entry.count > 0) return;
        rooms.delete(key);
        if (socket?.connected) socket.emit("unsubscribe", request, () => {});
      };
    },
    [rooms, socket],
  );

  const reconnect = useCallback(() => {
    if (!socket) return;
    socket.disconnect();
    socket.connect();
  }, [socket]);

  const value = useMemo(
    () => ({ socket, state, subscribe, reconnect }),
    [socket, state, subscribe, reconnect],
  );
  return <SocketContext.Provider value={value}>{children}</SocketContext.Provider>;
}

export function useSocketConnection(): SocketContextValue {
  const value = useContext(SocketContext);
  if (!value) throw new Error("live hooks need a <SocketProvider> above them");
  return value;
}

/** The connection's state, for the header's indicator. */
export function useConnectionState(): ConnectionState {
  return useSocketConnection().state;
}

/**
 * Listens to one server event while subscribed to one room. `onSubscribed` runs after each
 * successful subscribe (the first and every one after a reconnect), e.g. to refetch what a
 * drop may have missed.
 */
export function useRoom<E extends keyof ServerToClientEvents>(
  request: SubscribeRequest | null,
  event: E,
  listener: ServerToClientEvents[E],
) {
  const { socket, subscribe } = useSocketConnection();
  const channel = request?.channel;
  const market = request?.market;
  const interval = request?.interval;
  useEffect(() => {
    if (!socket || !channel || !market) return;
    // The listener is attached before subscribing: the snapshot follows the subscription at once.
    socket.on(event, listener as never);
    const release = subscribe({ channel, market, interval });
    return () => {
      socket.off(event, listener as never);
      release();
    };
  }, [socket, subscribe, channel, market, interval, event, listener]);
}

/** Runs `listener` for a user-room event (only a signed-in socket receives them). */
export function useUserEvent<
  E extends "user.orders" | "user.balances" | "user.trades" | "user.stops",
>(event: E, listener: ServerToClientEvents[E]) {
  const { socket } = useSocketConnection();
  useEffect(() => {
    if (!socket) return;
    socket.on(event, listener as never);
    return () => {
      socket.off(event, listener as never);
    };
  }, [socket, event, listener]);
}
