// @spotx/protocol: the messages spotx's processes exchange — engine commands on the orders
// topic, engine events on the events topic, the socket.io events the browsers receive — and
// the market rules both ends check them by.
export * from "./commands";
export * from "./engine-market";
export * from "./events";
export * from "./operator-feed";
export * from "./pipeline-history";
export * from "./price-order-changes";
export * from "./settled-orders";
export * from "./socket";
