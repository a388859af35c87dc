// What a phase's commands got back, counted where they were sent (this process or a generator
// process) and combined: answers by kind and label, and latencies. An ack is timed from the
// command's due time on the open-loop schedule, not from when it was actually sent, so a
// generator or connection that fell behind adds its delay to the figure instead of hiding it
// (coordinated omission); the service time (call → answer) is kept beside it.
import { Samples } from "./stats";
import type { OpOutcome } from "./traders";

/** A tally as it crosses the IPC channel (structured clone: typed arrays survive). */
export type TallyWire = {
  placed: number;
  cancels: number;
  alreadyClosed: number;
  refused: Record<string, number>;
  ack: Float64Array;
  ackService: Float64Array;
  cancelAck: Float64Array;
  cancelService: Float64Array;
};

export class OutcomeTally {
  placed = 0;
  cancels = 0;
  /** Cancels of an order that had already ended (filled): answered, nothing queued. */
  alreadyClosed = 0;
  readonly refused: Record<string, number> = {};
  /** Placements: due → answer. */
  readonly ack = new Samples();
  /** Placements: call → answer. */
  readonly ackService = new Samples();
  /** Cancels: due → answer (through HTTP that includes the wait for settlement; see README). */
  readonly cancelAck = new Samples();
  readonly cancelService = new Samples();

  record(outcome: OpOutcome, dueMs: number): void {
    const fromDue = outcome.doneMs - dueMs;
    const service = outcome.doneMs - outcome.calledMs;
    if (outcome.kind === "cancel") {
      if (outcome.error === null) {
        this.cancels += 1;
        this.cancelAck.add(fromDue);
        this.cancelService.add(service);
      } else if (outcome.error === "ORDER_CLOSED") {
        this.alreadyClosed += 1;
      } else {
        this.refuse(outcome.error);
      }
      return;
    }
    if (outcome.error !== null || outcome.orderId === null) {
      this.refuse(outcome.error ?? "no order");
      return;
    }
    this.placed += 1;
    this.ack.add(fromDue);
    this.ackService.add(service);
  }

  get refusedTotal(): number {
    return Object.values(this.refused).reduce((a, b) => a + b, 0);
  }

  toWire(): TallyWire {
    return {
      placed: this.placed,
      cancels: this.cancels,
      alreadyClosed: this.alreadyClosed,
      refused: { ...this.refused },
      ack: this.ack.values(),
      ackService: this.ackService.values(),
      cancelAck: this.cancelAck.values(),
      cancelService: this.cancelService.values(),
    };
  }

  merge(wire: TallyWire): void {
    this.placed += wire.placed;
    this.cancels += wire.cancels;
    this.alreadyClosed += wire.alreadyClosed;
    for (const [label, n] of Object.entries(wire.refused)) this.refuse(label, n);
    this.ack.addAll(wire.ack);
    this.ackService.addAll(wire.ackService);
    this.cancelAck.addAll(wire.cancelAck);
    this.cancelService.addAll(wire.cancelService);
  }

  private refuse(label: string, n = 1) {
    this.refused[label] = (this.refused[label] ?? 0) + n;
  }
}
