// Every operator action leaves a row in the hash-chained audit log: who (the operator), what
// (the action and its subject, the state before and after, the reason given), when (the row's
// time) and from where (the console request's address, user agent and request id). Written in
// the transaction that makes the change, so a change without its row — or a row without its
// change — cannot be committed.
import { type AuditOrigin, type Transaction, writeAudit } from "@spotx/db";
import type { Context, RequestInfo, Session } from "../context";

/** What an operator procedure knows about its caller. */
export type OperatorCall = { session: Session; request: RequestInfo };

/** An operator procedure's context: someone is signed in (operatorProcedure checked the role). */
export type OperatorContext = Context & { session: Session };

/** The request's origin as the ledger's audited operations take it. */
export function auditOrigin(request: RequestInfo): AuditOrigin {
  return { ip: request.ip, userAgent: request.userAgent, requestId: request.requestId };
}

export type OperatorAction = {
  /** `<area>.<verb>`, e.g. `user.freeze`, `market.halt`. */
  action: string;
  /** What was acted on, e.g. `user:42`, `market:BTC_USDT`. */
  subject: string;
  before: unknown;
  after: unknown;
  /** Why, in the operator's words (required of every change an operator makes by hand). */
  reason?: string | null;
  /** Anything else worth keeping with the row (ids of what the change created…). */
  details?: Record<string, unknown>;
};

/** Appends the action's audit row; `tx` must be the transaction making the change. */
export async function auditOperatorAction(
  tx: Transaction,
  call: OperatorCall,
  action: OperatorAction,
): Promise<bigint> {
  return writeAudit(tx, {
    actorId: call.session.userId,
    action: action.action,
    subject: action.subject,
    details: {
      ...action.details,
      reason: action.reason ?? null,
      before: action.before,
      after: action.after,
      origin: auditOrigin(call.request),
      sessionId: call.session.sessionId,
    },
  });
}
