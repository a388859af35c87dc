// @spotx/engine: a deterministic, allocation-free price-time matching engine, one per market.
export {
  type Converted,
  type Decimal,
  type DecimalError,
  decimalToUnits,
  MarketScale,
  parseDecimal,
  parseStep,
  unitsToDecimal,
} from "./decimal";
export {
  type ArmedTrigger,
  type EngineOptions,
  type EngineSnapshot,
  InvariantError,
  MatchingEngine,
} from "./engine";
export { EventCollector, type EventSink } from "./events";
export { MarketConfigError, type ResolvedMarket, resolveMarket } from "./market";
export { FINISH_AS, GATE_LABELS, type GateLabel, REJECT_MESSAGES, REJECT_REASONS } from "./reasons";
export type * from "./types";
