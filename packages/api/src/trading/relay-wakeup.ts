// Wakes the outbox relay (LISTEN on the namespace's channel) after commands were committed.
// The NOTIFY is a statement of its own, after the commit, not part of the writing transaction:
// PostgreSQL serialises every transaction that notifies, from before its commit until after
// it — WAL flush included — so notifying from the placement and cancel batches' own commits
// made them queue behind each other's fsync instead of sharing one. A notifying statement that
// writes nothing commits without a flush. At most one NOTIFY is in flight per process: wake-ups
// during it are folded into one more, sent when it is answered.
import type { Database } from "@spotx/db";
import { sql } from "drizzle-orm";

export class RelayWakeup {
  private sending = false;
  private again = false;

  constructor(
    private readonly db: Database,
    private readonly channel: string,
  ) {}

  /** Asks the relay to look for new rows; returns at once. */
  wake(): void {
    if (this.sending) {
      this.again = true;
      return;
    }
    this.sending = true;
    void this.send();
  }

  private async send() {
    try {
      do {
        this.again = false;
        await this.db.execute(sql`SELECT pg_notify(${this.channel}, '')`);
      } while (this.again);
    } catch {
      // The relay also polls (every second): a lost wake-up delays the commands, never loses them.
    } finally {
      this.sending = false;
    }
  }
}
