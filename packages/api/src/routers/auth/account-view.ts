// The signed-in user as the auth procedures answer: who they are and what they may do.
import { z } from "zod";

export const accountView = z.object({
  id: z.string(),
  email: z.string(),
  role: z.enum(["trader", "operator"]),
  status: z.enum(["active", "frozen"]),
  /** Two-factor sign-in is on (an operator without it may only enrol). */
  twoFactor: z.boolean(),
});
export type AccountView = z.infer<typeof accountView>;

export const toAccountView = (user: {
  id: bigint;
  email: string;
  role: "trader" | "operator";
  status: "active" | "frozen";
  twoFactor: boolean;
}): AccountView => ({
  id: String(user.id),
  email: user.email,
  role: user.role,
  status: user.status,
  twoFactor: user.twoFactor,
});

/** An email as spotx stores it: trimmed, lowercase, at most 254 characters. */
export const emailField = z
  .string()
  .max(254)
  .trim()
  .toLowerCase()
  .pipe(z.email({ message: "not an email address" }));

/** A password being checked: anything a user may have chosen (hashPassword's limit). */
export const passwordField = z.string().min(1).max(1_024);

/** A password being chosen: at least 8 characters. */
export const newPasswordField = z
  .string()
  .min(8, "a password has at least 8 characters")
  .max(1_024, "a password has at most 1,024 characters");
