// The markets router: public market information and market data, no sign-in needed.
import { router } from "../../trpc";
import { candles } from "./candles";
import { depth } from "./depth";
import { get, list } from "./list";
import { ticker } from "./ticker";
import { trades } from "./trades";

export const marketsRouter = router({ list, get, ticker, depth, trades, candles });
