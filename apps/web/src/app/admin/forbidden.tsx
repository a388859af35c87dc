// What a signed-in trader (or a frozen operator) sees at /admin: HTTP 403 and this page.
import Link from "next/link";

export default function ConsoleForbidden() {
  return (
    <div className="page page-narrow" data-testid="console-forbidden">
      <h1>Operators only</h1>
      <p className="muted">
        The console is for the exchange's operators. This account is not an active operator; log out
        and log in with an operator account to use it.
      </p>
      <p>
        <Link href="/">Back to the markets</Link>
      </p>
    </div>
  );
}
