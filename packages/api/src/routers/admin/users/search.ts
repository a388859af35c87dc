// admin.users.search: users by a piece of their email or their id, role and status, newest
// first, a page at a time.
import { schema } from "@spotx/db";
import { and, desc, eq, ilike, lt, or, type SQL } from "drizzle-orm";
import { z } from "zod";
import { cursorId, decodeCursor, pageFrom, pageInput, pageOf } from "../../../admin/schemas";
import { operatorProcedure } from "../../../trpc";

export const adminUser = z.object({
  id: z.bigint(),
  email: z.string(),
  role: z.enum(["trader", "operator"]),
  status: z.enum(["active", "frozen"]),
  createdAt: z.date(),
});

export const searchUsersInput = z
  .object({
    /** A piece of the email (case-insensitive), or a user id. */
    query: z.string().trim().max(200).optional(),
    role: z.enum(["trader", "operator"]).optional(),
    status: z.enum(["active", "frozen"]).optional(),
    ...pageInput,
  })
  .prefault({});

/** The text as a LIKE pattern that matches it literally anywhere. */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export const searchUsersProcedure = operatorProcedure
  .input(searchUsersInput)
  .output(pageOf(adminUser))
  .query(async ({ ctx, input }) => {
    const { users } = schema;
    const query = input.query?.replaceAll("\u0000", "");
    let matching: SQL | undefined;
    if (query) {
      const byEmail = ilike(users.email, containing(query.toLowerCase()));
      matching = /^[1-9][0-9]{0,17}$/.test(query)
        ? or(eq(users.id, BigInt(query)), byEmail)
        : byEmail;
    }
    const rows = await ctx.db
      .select({
        id: users.id,
        email: users.email,
        role: users.role,
        status: users.status,
        createdAt: users.createdAt,
      })
      .from(users)
      .where(
        and(
          matching,
          input.role === undefined ? undefined : eq(users.role, input.role),
          input.status === undefined ? undefined : eq(users.status, input.status),
          input.cursor === undefined
            ? undefined
            : lt(users.id, cursorId(decodeCursor(input.cursor, 1)[0])),
        ),
      )
      .orderBy(desc(users.id))
      .limit(input.limit + 1);
    return pageFrom(
      rows,
      input.limit,
      (u) => u,
      (u) => [u.id.toString()],
    );
  });
