// Every export of the three entry points has JSDoc with an @example (the
// examples run as doc tests in `npm run test:jsr`), and each entry point
// has module docs. Reads `deno doc --json`, so Deno's view of the docs is
// the one checked, on every runtime.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { repoRoot } from "../support/runtime.ts";

interface JsDoc {
  doc?: string;
  tags?: Array<{ kind: string }>;
}
interface DocNode {
  name: string;
  kind?: string;
  jsDoc?: JsDoc;
  declarations?: Array<{ kind: string; jsDoc?: JsDoc }>;
}

const ENTRY_POINTS = ["mod.ts", "client.ts", "cli.ts"];

interface EntryDocs {
  moduleDoc?: JsDoc;
  symbols: DocNode[];
}

function denoDoc(): Record<string, EntryDocs> {
  const deno = path.join(repoRoot, "node_modules", ".bin", "deno");
  const text = execFileSync(deno, ["doc", "--json", "--no-npm", ...ENTRY_POINTS], {
    cwd: repoRoot,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    stdio: ["ignore", "pipe", "ignore"],
  });
  // deno doc --json, format version 2: { nodes: { [url]: { module_doc, symbols } } }.
  const json = JSON.parse(text) as {
    nodes: Record<string, { module_doc?: JsDoc; symbols: DocNode[] }>;
  };
  const out: Record<string, EntryDocs> = {};
  for (const [file, node] of Object.entries(json.nodes)) {
    out[path.basename(new URL(file).pathname)] = {
      moduleDoc: node.module_doc,
      symbols: node.symbols,
    };
  }
  return out;
}

describe("API docs", () => {
  const docs = denoDoc();

  it("covers the three entry points", () => {
    assert.deepEqual(Object.keys(docs).sort(), [...ENTRY_POINTS].sort());
  });

  it("every export has JSDoc with an @example", () => {
    const missing: string[] = [];
    let checked = 0;
    for (const [file, { symbols }] of Object.entries(docs)) {
      for (const symbol of symbols) {
        const declarations = symbol.declarations ?? [symbol];
        // Re-exports of mod.ts's symbols (client.ts) point at the same declarations.
        if (declarations.every((d) => d.kind === "reference")) continue;
        checked++;
        const documented = declarations.some((d) =>
          (d.jsDoc?.doc ?? "").trim() !== "" &&
          (d.jsDoc?.tags ?? []).some((tag) => tag.kind === "example")
        );
        if (!documented) missing.push(`${file}: ${symbol.name}`);
      }
    }
    assert.ok(checked > 50, `${checked} exports checked`);
    assert.deepEqual(missing, [], "exports without JSDoc or @example");
  });

  it("each entry point has module docs with an example", () => {
    for (const [file, { moduleDoc }] of Object.entries(docs)) {
      assert.ok((moduleDoc?.doc ?? "").trim() !== "", `${file} has module docs`);
      assert.ok(
        (moduleDoc?.tags ?? []).some((tag) => tag.kind === "example"),
        `${file}'s module docs have an @example`,
      );
    }
  });
});
