// The library's only output: one line on stderr per event worth an operator's time.
export function logError(message: string, error?: unknown): void {
  const detail = error instanceof Error
    ? (error.stack ?? `${error.name}: ${error.message}`)
    : error;
  try {
    if (detail === undefined) console.error(`webfcgi: ${message}`);
    else console.error(`webfcgi: ${message}:`, detail);
  } catch {
    // stderr may be closed when a web server spawned us.
  }
}
