// gate.io's own Node SDK as the SDK test files drive it: a SpotApi for a key (only the base URL
// changed, as a trading program would), a refusal's status and label, a user's balances as
// [available, locked] strings, and waiting for an order to reach a state.
import { ApiClient, type Order, SpotApi } from "gate-api";
import { type GateKey, waitFor } from "./gate-exchange";

export function sdkSpotApi(baseUrl: string, key: GateKey | null): SpotApi {
  const client = new ApiClient(baseUrl);
  if (key) client.setApiKeySecret(key.key, key.secret);
  return new SpotApi(client);
}

export type Refusal = { status: number; data: { label: string; message: string } };

/** The HTTP answer of a refused SDK call (use as a promise's rejection handler). */
export const refusal = (error: { response?: Refusal }) => error.response;

export async function sdkBalances(api: SpotApi) {
  const accounts = await api.listSpotAccounts({});
  return Object.fromEntries(accounts.body.map((a) => [a.currency, [a.available, a.locked]]));
}

/** The BTC_USDT order once `done` holds for it. */
export function orderWhen(api: SpotApi, id: string, done: (o: Order) => boolean, what: string) {
  return waitFor(
    async () => {
      const o = (await api.getOrder(id, "BTC_USDT", {})).body;
      return done(o) && o;
    },
    { what },
  );
}
