// The home page: the exchange's markets, rendered on the server from PostgreSQL and kept
// fresh in the browser.
import { MarketsTable } from "../components/markets-table";
import { serverCaller } from "../trpc/server";

// Markets come from the database at request time, never from the build.
export const dynamic = "force-dynamic";

export default async function HomePage() {
  const markets = await serverCaller().markets.list();
  return (
    <main>
      <header>
        <h1>spotx</h1>
        <p>A spot exchange you can run yourself.</p>
      </header>
      <section aria-labelledby="markets-heading">
        <h2 id="markets-heading">Markets</h2>
        <MarketsTable initialMarkets={markets} />
      </section>
    </main>
  );
}
