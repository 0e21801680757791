// The results recorder: every interop case writes one row
// {server, variant, runtime, case, outcome} to
// .build/interop/<runtime>/<suite>.json; scripts/interop_report.ts merges
// those files into docs/interop.md.
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot, runtimeName, runtimeVersion } from "./runtime.ts";

export type Outcome = "pass" | "fail" | `expected-difference: ${string}`;

export interface ResultRow {
  server: string;
  variant: string;
  runtime: string;
  case: string;
  outcome: Outcome;
  /** First line of the failure, for fails. */
  detail?: string;
  ms?: number;
}

export interface ResultsDocument {
  suite: string;
  runtime: string;
  runtimeVersion: string;
  written: string;
  servers: Record<string, { version: string; variants: Record<string, string> }>;
  cases: Record<string, string>;
  results: ResultRow[];
}

/** One JSON file per runtime and suite; rewritten after every row so a crash loses nothing. */
export class ResultsFile {
  readonly file: string;
  #doc: ResultsDocument;

  constructor(suite: string) {
    const runtime = runtimeName();
    this.file = path.join(repoRoot(), ".build", "interop", runtime, `${suite}.json`);
    this.#doc = {
      suite,
      runtime,
      runtimeVersion: runtimeVersion(),
      written: new Date().toISOString(),
      servers: {},
      cases: {},
      results: [],
    };
  }

  server(name: string, version: string, variants: Record<string, string>): void {
    this.#doc.servers[name] = { version, variants };
  }

  cases(titles: Record<string, string>): void {
    Object.assign(this.#doc.cases, titles);
  }

  record(row: Omit<ResultRow, "runtime">): void {
    const full: ResultRow = { ...row, runtime: this.#doc.runtime };
    const at = this.#doc.results.findIndex((r) =>
      r.server === row.server && r.variant === row.variant && r.case === row.case
    );
    if (at >= 0) this.#doc.results[at] = full;
    else this.#doc.results.push(full);
    this.flush();
  }

  flush(): void {
    this.#doc.written = new Date().toISOString();
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(this.file, JSON.stringify(this.#doc, null, 1) + "\n");
  }
}
