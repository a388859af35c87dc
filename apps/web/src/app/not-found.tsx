// A page or market that does not exist.
import Link from "next/link";
import { StateMessage } from "../components/ui/state-message";

export default function NotFound() {
  return (
    <div className="page">
      <StateMessage kind="empty" action={<Link href="/">See the markets</Link>}>
        There is no such page or market here.
      </StateMessage>
    </div>
  );
}
