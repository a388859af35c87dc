// Cross-site request forgery: a state-changing tRPC call must carry the `x-spotx-csrf` header
// (any value). A form or a link on another site cannot add a header, and a script on another
// origin that tries triggers a CORS preflight, which this server never approves — so a call with
// the header comes from our own pages (or a program that holds the cookie anyway). The session
// cookies are SameSite=Lax as well, so other sites' subrequests carry no session at all; the
// header closes what Lax leaves open (top-level navigations, sibling subdomains). Checked on every
// mutation, signed in or not (login CSRF included), by `csrfGuard` in trpc.ts.
export const CSRF_HEADER = "x-spotx-csrf";
