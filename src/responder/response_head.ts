import { reasonFor } from "./status_text.ts";

// Framing belongs to the web server: these never leave the app. "status" is
// CGI's own header: the one Status line we write is the response's status.
const DROPPED = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "status",
]);

/** Statuses whose responses never carry a body. */
export function isBodylessStatus(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

// A reason phrase is text after the code: keep only what HTTP allows there.
const BAD_REASON = /[^\t\x20-\x7e\x80-\xff]/g;

/** A header name: an HTTP token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * What a header value may not hold: CR, LF and NUL (as in web Headers), and
 * characters above U+00FF, which have no byte form (sent as their low byte,
 * U+010A would become a raw LF).
 */
const BAD_VALUE = /[\0\r\n\u0100-\uffff]/;

/**
 * The status of a response, checked: an integer from 200 to 599, the range
 * web `Response` allows. Response-like objects can carry anything.
 *
 * @throws {RangeError} for any other value
 */
export function checkStatus(status: unknown): number {
  if (typeof status !== "number" || !Number.isInteger(status) || status < 200 || status > 599) {
    throw new RangeError(
      `response status ${String(status).slice(0, 20)} is not an integer from 200 to 599`,
    );
  }
  return status;
}

/** Status lines of responses without a statusText (nearly all), by status (200-599, checked). */
const PLAIN_LINES = new Map<number, string>();

/** The status line a web server understands: "Status: 404 Not Found". */
export function statusLine(status: number, statusText: unknown): string {
  if (statusText === "") {
    let line = PLAIN_LINES.get(status);
    if (line === undefined) {
      line = `Status: ${status} ${reasonFor(status)}\r\n`;
      PLAIN_LINES.set(status, line);
    }
    return line;
  }
  const text = typeof statusText === "string" ? statusText.replace(BAD_REASON, "") : "";
  return `Status: ${status} ${text || reasonFor(status)}\r\n`;
}

function checkValue(name: string, value: string): string {
  if (BAD_VALUE.test(value)) {
    throw new TypeError(
      `response header ${name} has a value with CR, LF, NUL or a non-byte character`,
    );
  }
  return value;
}

/**
 * The CGI header block of a response, ending with the blank line.
 * `rename` may rename a header (the Authorizer's `Variable-` names).
 *
 * Web `Response` objects are valid by construction; Response-like objects
 * (a framework's own class) are checked here, so that nothing they carry
 * reaches the web server raw.
 *
 * @throws {RangeError} for a status outside 200-599
 * @throws {TypeError} for headers that are not iterable, a name that is not
 *   a token, or a value with CR, LF, NUL or a character above U+00FF
 */
export function responseHead(
  response: Response,
  rename?: (name: string) => string,
): string {
  let head = statusLine(checkStatus(response.status), response.statusText);
  const headers = response.headers as Headers | Iterable<[unknown, unknown]>;
  // A Map or an array of pairs has no getSetCookie: its set-cookie entries are lines already.
  const setCookies = typeof (headers as Headers).getSetCookie === "function";
  let cookies = false;
  const add = (rawName: unknown, rawValue: unknown): void => {
    const name = String(rawName).toLowerCase();
    if (!TOKEN.test(name)) {
      throw new TypeError(
        `response header name ${JSON.stringify(name.slice(0, 40))} is not a token`,
      );
    }
    const value = checkValue(name, String(rawValue));
    if (name === "set-cookie" && setCookies) {
      cookies = true;
      return;
    }
    if (DROPPED.has(name)) return;
    head += `${rename ? rename(name) : name}: ${value}\r\n`;
  };
  // Web Headers: forEach yields the same pairs as iteration, at a fraction
  // of the cost in Deno (no iterator object and result per entry).
  if (headers instanceof Headers) {
    headers.forEach((value, name) => add(name, value));
  } else {
    for (const [rawName, rawValue] of headers as Iterable<[unknown, unknown]>) {
      add(rawName, rawValue);
    }
  }
  if (cookies) {
    for (const cookie of (headers as Headers).getSetCookie()) {
      head += `set-cookie: ${checkValue("set-cookie", cookie)}\r\n`;
    }
  }
  return head + "\r\n";
}
