// The orders router: placing and cancelling (through the trading service), and the user's own
// open orders, history and fills.
import { router } from "../../trpc";
import { cancel, cancelAll } from "./cancel";
import { fills } from "./fills";
import { history, open } from "./order-lists";
import { place } from "./place";

export const ordersRouter = router({ place, cancel, cancelAll, open, history, fills });
