// The library's only output: one line on stderr per event worth an operator's time.

/**
 * C0 controls, DEL, C1 controls, U+2028/U+2029, and the bidirectional
 * controls (U+061C, U+200E/F, U+202A-E, U+2066-9) that make a terminal or
 * a log viewer show the text in another order than it was written: what
 * could break, forge or disguise a log line.
 */
const OTHERS = "\\u007f-\\u009f\\u2028\\u2029\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069";
const CONTROL = new RegExp(`[\\u0000-\\u001f${OTHERS}]`, "g");
const CONTROL_BUT_LF = new RegExp(`[\\u0000-\\u0009\\u000b-\\u001f${OTHERS}]`, "g");
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeOne(char: string): string {
  const code = char.charCodeAt(0);
  return NAMED[char] ??
    (code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`);
}

/**
 * Escapes control characters (CR, LF, the rest of C0, DEL, C1, U+2028/9,
 * bidirectional controls) so that untrusted text (a REQUEST_URI, a method, an error message quoting
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

/**
 * A log line for an event that can come in floods (refused connections):
 * written at once the first time, then at most once per `intervalMs`,
 * saying how many were not written in between.
 *
 * @example
 * ```ts ignore
 * const refusals = new RateLimitedLog(10_000);
 * refusals.log((count) => count === 1 ? "refused a connection" : `refused ${count} connections`);
 * ```
 */
export class RateLimitedLog {
  #interval: number;
  #clock: () => number;
  #count = 0;
  #loggedAt = -Infinity;

  /** `clock` (ms) is for tests. */
  constructor(intervalMs: number, clock: () => number = Date.now) {
    this.#interval = intervalMs;
    this.#clock = clock;
  }

  /** Counts one event; writes `line(count)` when the interval allows. */
  log(line: (count: number) => string): void {
    this.#count++;
    const now = this.#clock();
    if (now - this.#loggedAt < this.#interval) return;
    logError(line(this.#count));
    this.#count = 0;
    this.#loggedAt = now;
  }
}
