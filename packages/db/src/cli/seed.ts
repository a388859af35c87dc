// `npm run seed -w @spotx/db`: inserts the demo assets, markets and users when missing.
import { postgresPool } from "@spotx/platform/postgres";
import { database } from "../client";
import { seedDemo } from "../seed";

const result = await seedDemo(database());
console.log(result.created ? "demo data seeded" : "demo data already present");
await postgresPool().end();
