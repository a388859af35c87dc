// What every procedure sees: the database handle. Sessions join it with the auth issue.
import { type Database, database } from "@spotx/db";

export type Context = { db: Database };

export function createContext(): Context {
  return { db: database() };
}
