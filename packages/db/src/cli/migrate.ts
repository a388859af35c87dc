// `npm run migrate -w @spotx/db`: applies the committed migrations to DATABASE_URL.
import { platformEnv } from "@spotx/platform";
import { migrateDatabase } from "../migrate";

await migrateDatabase(platformEnv().DATABASE_URL);
console.log("migrations applied");
