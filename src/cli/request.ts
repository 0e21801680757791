import { readFileSync } from "node:fs";
import process from "node:process";
import { fetchFastCGI } from "../client/client.ts";
import { parseArgs, UsageError } from "./args.ts";

function header(text: string): [string, string] {
  const colon = text.indexOf(":");
  if (colon <= 0) throw new UsageError(`not a header: ${text} (use 'Name: value')`);
  return [text.slice(0, colon).trim(), text.slice(colon + 1).trim()];
}

function param(text: string): [string, string] {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new UsageError(`not a param: ${text} (use NAME=VALUE)`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

/**
 * `webfcgi request ADDRESS URL [-X METHOD] [-H 'Name: value'] [-d DATA | -d @file]
 * [--param NAME=VALUE] [-i]`: one request to a FastCGI server, the response
 * body on stdout (with -i, the status line and headers first).
 */
export async function request(args: readonly string[]): Promise<number> {
  const { positionals, flags } = parseArgs(args, ["-X", "-H", "-d", "--param"], ["-i"]);
  if (positionals.length !== 2) {
    throw new UsageError(
      "request takes an address and a URL: webfcgi request unix:/run/app.sock http://localhost/",
    );
  }
  const [address, url] = positionals;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new UsageError(`not an absolute URL: ${url}`);
  }
  const data = flags.get("-d")?.at(-1);
  const body = data === undefined
    ? undefined
    : data.startsWith("@")
    ? readFileSync(data === "@-" ? 0 : data.slice(1))
    : new TextEncoder().encode(data);
  const method = flags.get("-X")?.at(-1) ?? (body === undefined ? "GET" : "POST");
  const headers = new Headers((flags.get("-H") ?? []).map(header));
  if (body !== undefined && !headers.has("content-type")) {
    headers.set("content-type", "application/x-www-form-urlencoded");
  }
  const params = Object.fromEntries((flags.get("--param") ?? []).map(param));
  const response = await fetchFastCGI(address, target, {
    method,
    headers,
    body: body as BodyInit | undefined,
    params,
  });
  if (flags.has("-i")) {
    let head = `${response.status} ${response.statusText}\r\n`;
    for (const [name, value] of response.headers) {
      if (name !== "set-cookie") head += `${name}: ${value}\r\n`;
    }
    for (const cookie of response.headers.getSetCookie()) head += `set-cookie: ${cookie}\r\n`;
    process.stdout.write(head + "\r\n");
  }
  if (response.body !== null) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await new Promise<void>((resolve) => {
        if (process.stdout.write(value)) resolve();
        else process.stdout.once("drain", () => resolve());
      });
    }
  }
  return 0;
}
