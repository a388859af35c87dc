// Server components call the router in-process: no HTTP round trip, same procedures.
import "server-only";
import { createCaller, createContext } from "@spotx/api";

export const serverCaller = () => createCaller(createContext());
