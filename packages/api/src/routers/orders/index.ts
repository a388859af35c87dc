// The orders router: placing, cancelling and amending orders, and stop-limit orders (through the
// trading service), and the user's own open orders, history and fills.
import { router } from "../../trpc";
import { amend } from "./amend";
import { cancel, cancelAll } from "./cancel";
import { fills } from "./fills";
import { history, open } from "./order-lists";
import { place } from "./place";
import { cancelStop, placeStop, stops } from "./stops";

export const ordersRouter = router({
  place,
  cancel,
  cancelAll,
  amend,
  placeStop,
  stops,
  cancelStop,
  open,
  history,
  fills,
});
