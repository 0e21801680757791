// The library's only output: one line on stderr per event worth an operator's time.

/** C0 controls, DEL, C1 controls, U+2028/U+2029: what could break or forge a log line. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
// deno-lint-ignore no-control-regex
const CONTROL_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeOne(char: string): string {
  const code = char.charCodeAt(0);
  return NAMED[char] ??
    (code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`);
}

/**
 * Escapes control characters (CR, LF, the rest of C0, DEL, C1, U+2028/9)
 * so that untrusted text (a REQUEST_URI, a method, an error message quoting
 * a body) stays on its log line: `a\r\nb` becomes `a\\r\\nb`.
 *
 * @example
 * ```ts ignore
 * escapeControl("/x\r\nwebfcgi: forged"); // "/x\\r\\nwebfcgi: forged"
 * ```
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, escapeOne);
}

/** An error's stack with its message escaped; the frames keep their line breaks. */
function describeError(error: Error): string {
  const message = String(error.message);
  const stack = typeof error.stack === "string" ? error.stack : `${error.name}: ${message}`;
  const at = message === "" ? -1 : stack.indexOf(message);
  if (at < 0) return stack.replace(CONTROL_BUT_LF, escapeOne);
  return stack.slice(0, at).replace(CONTROL, escapeOne) + escapeControl(message) +
    stack.slice(at + message.length).replace(CONTROL_BUT_LF, escapeOne);
}

function describeValue(value: unknown): string {
  if (value instanceof Error) return describeError(value);
  if (typeof value === "string") return escapeControl(value);
  let text: string | undefined;
  try {
    text = typeof value === "object" && value !== null ? JSON.stringify(value) : undefined;
  } catch {
    // cycles, BigInt
  }
  return escapeControl(text ?? String(value));
}

/** Writes `webfcgi: message[: detail]` to stderr, control characters escaped. */
export function logError(message: string, error?: unknown): void {
  const line = `webfcgi: ${escapeControl(message)}`;
  try {
    if (error === undefined) console.error(line);
    else console.error(`${line}:`, describeValue(error)); // two arguments, as before
  } catch {
    // stderr may be closed when a web server spawned us.
  }
}
