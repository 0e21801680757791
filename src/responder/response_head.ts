import { reasonFor } from "./status_text.ts";

// Framing belongs to the web server: these never leave the app.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
]);

/** Statuses whose responses never carry a body. */
export function isBodylessStatus(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

// A reason phrase is text after the code: keep only what HTTP allows there.
const BAD_REASON = /[^\t\x20-\x7e\x80-\xff]/g;

/** The status line a web server understands: "Status: 404 Not Found". */
export function statusLine(status: number, statusText: string): string {
  const reason = statusText.replace(BAD_REASON, "") || reasonFor(status);
  return `Status: ${status} ${reason}\r\n`;
}

/**
 * The CGI header block of a response, ending with the blank line.
 * `transform` may rename a header (the Authorizer's `Variable-` names).
 */
export function responseHead(
  response: Response,
  rename?: (name: string) => string,
): string {
  let head = statusLine(response.status, response.statusText);
  let cookies = false;
  for (const [name, value] of response.headers) {
    if (name === "set-cookie") {
      cookies = true;
      continue;
    }
    if (HOP_BY_HOP.has(name)) continue;
    head += `${rename ? rename(name) : name}: ${value}\r\n`;
  }
  if (cookies) {
    for (const cookie of response.headers.getSetCookie()) head += `set-cookie: ${cookie}\r\n`;
  }
  return head + "\r\n";
}
