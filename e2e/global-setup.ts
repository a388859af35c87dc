// Gives the suite a whole exchange of its own (e2e/exchange.ts: a seeded database, a
// namespace on the stack's servers, the production web server and a worker) and tears it down
// afterwards. Tests read its address and settings from the E2E_* variables.
import { startExchange } from "./exchange";

export default async function globalSetup() {
  const exchange = await startExchange();
  process.env.E2E_BASE_URL = exchange.baseUrl;
  process.env.E2E_DATABASE_URL = exchange.databaseUrl;
  process.env.E2E_NAMESPACE = exchange.namespace;
  process.env.E2E_SECRET_KEY = exchange.secretKey;
  return () => exchange.stop();
}
