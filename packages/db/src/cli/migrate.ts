// `npm run migrate -w @spotx/db`: applies the committed migrations as DATABASE_OWNER_URL's
// role and grants DATABASE_URL's role what the apps need.
import { databaseUrls } from "../env";
import { migrateDatabase } from "../migrate";

const { ownerUrl, appUrl } = databaseUrls();
await migrateDatabase(ownerUrl, { appUrl });
console.log("migrations applied");
