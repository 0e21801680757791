// Watches what the library prints (console.error lines starting "webfcgi:")
// in this process, so cases can assert that routine events (a server
// closing early, a client hanging up) stay quiet. Output still goes through.
const lines: string[] = [];
let installed = false;

export function watchLibraryLog(): void {
  if (installed) return;
  installed = true;
  const original = console.error;
  console.error = (...args: unknown[]) => {
    const text = args.map((a) => a instanceof Error ? (a.stack ?? a.message) : String(a)).join(" ");
    if (text.startsWith("webfcgi:")) lines.push(text);
    original.apply(console, args);
  };
}

/** A position in the log. */
export function logMark(): number {
  return lines.length;
}

/** Library lines logged since `mark`, minus those matching `allowed`. */
export function libraryLogSince(mark: number, allowed?: RegExp): string[] {
  return lines.slice(mark).filter((line) => allowed === undefined || !allowed.test(line));
}
