// The tRPC HTTP endpoint used by client components: @spotx/api's handler, with the services
// the web server registered at start (see packages/api/src/http-handler.ts).
import { handleTrpcRequest } from "@spotx/api";

const handler = (req: Request) => handleTrpcRequest(req);

export { handler as GET, handler as POST };
