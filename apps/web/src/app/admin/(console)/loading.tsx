// Shown while a console page loads its first figures on the server.
import { StateMessage } from "../../../components/ui/state-message";

export default function ConsoleLoading() {
  return (
    <StateMessage kind="loading" minHeight={240}>
      Loading…
    </StateMessage>
  );
}
