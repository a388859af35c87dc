// The text of one member of a JSON message exactly as the client wrote it. gate.io's WebSocket
// trading API signs `payload.req_param` as sent — its spacing, key order and escapes — and
// clients disagree on what they put there (nothing, `{}`, `""`), so the server must verify the
// bytes it received, not a re-serialization of what JSON.parse made of them.

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);

function skipWhitespace(text: string, i: number): number {
  let at = i;
  while (at < text.length && WHITESPACE.has(text[at] ?? "")) at += 1;
  return at;
}

/** The index just past the string that opens at `i` (a `"`). */
function skipString(text: string, i: number): number {
  let at = i + 1;
  while (at < text.length) {
    const c = text[at];
    if (c === "\\") at += 2;
    else if (c === '"') return at + 1;
    else at += 1;
  }
  return at;
}

/** The index just past the value that starts at `i`. */
function skipValue(text: string, i: number): number {
  const first = text[i];
  if (first === '"') return skipString(text, i);
  if (first === "{" || first === "[") {
    let depth = 0;
    let at = i;
    while (at < text.length) {
      const c = text[at];
      if (c === '"') {
        at = skipString(text, at);
        continue;
      }
      if (c === "{" || c === "[") depth += 1;
      else if (c === "}" || c === "]") {
        depth -= 1;
        if (depth === 0) return at + 1;
      }
      at += 1;
    }
    return at;
  }
  // A number, true, false or null: up to the next delimiter.
  let at = i;
  while (at < text.length && !",}] \t\n\r".includes(text[at] ?? "")) at += 1;
  return at;
}

/**
 * Where the value of member `name` of the object whose value starts at `start` lies, or null when
 * that value is not an object or has no such member. Of repeated names the last counts, as with
 * JSON.parse.
 */
function memberSpan(
  text: string,
  start: number,
  name: string,
): { start: number; end: number } | null {
  let at = skipWhitespace(text, start);
  if (text[at] !== "{") return null;
  at += 1;
  let found: { start: number; end: number } | null = null;
  for (;;) {
    at = skipWhitespace(text, at);
    if (text[at] !== '"') return found; // "}" (or the end)
    const keyEnd = skipString(text, at);
    const key: unknown = JSON.parse(text.slice(at, keyEnd));
    at = skipWhitespace(text, keyEnd) + 1; // past ":"
    const valueStart = skipWhitespace(text, at);
    const valueEnd = skipValue(text, valueStart);
    if (key === name) found = { start: valueStart, end: valueEnd };
    at = skipWhitespace(text, valueEnd);
    if (text[at] === ",") at += 1;
  }
}

/**
 * The raw text of the value at `path` (member names from the top object down) in `text`, which
 * must be valid JSON (JSON.parse accepted it); undefined when some member on the path is absent.
 */
export function jsonMemberText(text: string, path: readonly string[]): string | undefined {
  let span = { start: 0, end: text.length };
  for (const name of path) {
    const next = memberSpan(text, span.start, name);
    if (!next) return undefined;
    span = next;
  }
  return text.slice(span.start, span.end);
}
