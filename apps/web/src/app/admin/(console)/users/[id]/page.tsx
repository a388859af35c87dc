// One user: read here (admin.users.detail), then kept current by the page after each change.
import { notFound } from "next/navigation";
import { UserDetail } from "../../../../../components/admin/user-detail";
import { serverCaller } from "../../../../../trpc/server";

export default async function UserPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!/^[1-9][0-9]{0,18}$/.test(id)) notFound();
  const detail = await serverCaller()
    .admin.users.detail({ userId: id })
    .catch((error: unknown) => {
      // An unknown user is a 404; any other failure goes to the console's error page.
      if (
        typeof error === "object" &&
        error !== null &&
        "code" in error &&
        error.code === "NOT_FOUND"
      ) {
        return null;
      }
      throw error;
    });
  if (!detail) notFound();
  return <UserDetail initial={detail} />;
}
