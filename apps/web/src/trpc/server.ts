// Server components call the router in-process: no HTTP round trip, same procedures, the
// signed-in user from the request's cookies (read-only: a render cannot set cookies, so an
// expired access token makes this render anonymous until the client refreshes it).
import "server-only";
import { createCaller, createServerContext } from "@spotx/api";
import { cookies, headers } from "next/headers";

export const serverCaller = () =>
  createCaller(async () => {
    const [jar, requestHeaders] = await Promise.all([cookies(), headers()]);
    return createServerContext({
      cookies: new Map(jar.getAll().map((cookie) => [cookie.name, cookie.value])),
      headers: requestHeaders,
    });
  });
