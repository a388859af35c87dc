// Users: search every account; the list is paged by the server.
import { UsersSearch } from "../../../../components/admin/users-search";

export default function UsersPage() {
  return (
    <>
      <div className="console-head">
        <div>
          <h1>Users</h1>
          <p className="muted">
            Open a user to see their balances, orders, fills, ledger and keys.
          </p>
        </div>
      </div>
      <UsersSearch />
    </>
  );
}
