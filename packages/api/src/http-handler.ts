// tRPC over HTTP, as the web's route handler serves it (/api/trpc): each request's context from
// its cookies (refreshing the session and setting new cookies when its access token has run
// out), no caching of answers, and a Retry-After on throttled or unavailable answers.

import type { Database } from "@spotx/db";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { createHttpContext } from "./auth/http-context";
import { ApiError, toApiError } from "./errors";
import { appRouter } from "./root";
import type { ApiServices } from "./services";

export const TRPC_ENDPOINT = "/api/trpc";

export function handleTrpcRequest(
  req: Request,
  options: { services?: ApiServices; db?: Database } = {},
): Promise<Response> {
  return fetchRequestHandler({
    endpoint: TRPC_ENDPOINT,
    req,
    router: appRouter,
    createContext: ({ req, resHeaders }) => createHttpContext({ req, resHeaders, ...options }),
    responseMeta({ errors }) {
      // Labelled as the answer's body is: an unavailable server met while building the
      // context (the session lookup) carries its wait too.
      const waits = errors.flatMap((error) => {
        const labelled = toApiError(error, undefined);
        return labelled instanceof ApiError && labelled.retryAfterSeconds !== undefined
          ? [labelled.retryAfterSeconds]
          : [];
      });
      const headers = new Headers({ "cache-control": "no-store" });
      if (waits.length > 0) headers.set("retry-after", String(Math.max(...waits)));
      return { headers };
    },
  });
}
