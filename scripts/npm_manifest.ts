/**
 * The npm package.json that scripts/build_npm.ts writes, computed from
 * deno.json (the JSR manifest) so both packages list the same entry points.
 * Pure: no I/O, so tests/package/exports.test.ts can check it on every
 * runtime without building.
 *
 * @module
 */

/** The fields of deno.json the npm manifest is made from. */
export interface DenoJson {
  name: string;
  version: string;
  description?: string;
  license?: string;
  exports: string | Record<string, string>;
}

/** One conditional export of the npm package. */
export interface NpmExport {
  types: string;
  import: string;
  default: string;
}

/** The generated npm package.json. */
export interface NpmManifest {
  name: string;
  version: string;
  description: string;
  keywords: string[];
  license: string;
  type: "module";
  main?: string;
  types?: string;
  exports: Record<string, NpmExport | string>;
  files: string[];
  bin?: Record<string, string>;
  sideEffects: string[] | false;
  engines: { node: string };
}

/** Folder inside the npm package that holds the compiled modules. */
export const ESM = "esm";

/**
 * The Node lines the package supports: 22, 24 and 26, each of which
 * `npm test` runs (the node22/24/26 devDependencies). 22.12 is the first 22
 * that require()s an ES module without a flag, which CommonJS users of this
 * ESM-only package need. Node 20 reached its end of life on 2026-04-30.
 */
export const NODE_ENGINES = ">=22.12.0";

const DEFAULT_DESCRIPTION =
  "A web-standard FastCGI runtime for Deno, Bun and Node: a FastCGI application is a plain fetch handler (Request in, Response out).";
const KEYWORDS = [
  "fastcgi",
  "fcgi",
  "cgi",
  "fetch",
  "request",
  "response",
  "web-standard",
  "server",
  "client",
  "nginx",
  "php-fpm",
  "deno",
  "bun",
  "node",
];

/** deno.json's exports as a map (a string export is the "." entry). */
export function exportsOf(deno: DenoJson): Record<string, string> {
  return typeof deno.exports === "string" ? { ".": deno.exports } : deno.exports;
}

/** "./src/cli/main.ts" -> "./esm/src/cli/main" (no extension). Throws on anything but a .ts module. */
export function emittedBase(source: string): string {
  if (!/^\.\/.+\.ts$/.test(source) || source.endsWith(".d.ts")) {
    throw new Error(`deno.json export ${JSON.stringify(source)} must be a relative .ts module`);
  }
  return `./${ESM}/${source.slice(2, -3)}`;
}

/**
 * The npm package.json for `deno` (its deno.json); `extras` are the
 * top-level files copied next to it (README.md, LICENSE).
 */
export function npmManifest(deno: DenoJson, extras: readonly string[]): NpmManifest {
  const exportsMap = exportsOf(deno);
  const exports: Record<string, NpmExport | string> = {};
  for (const [subpath, source] of Object.entries(exportsMap)) {
    const base = emittedBase(source);
    exports[subpath] = { types: `${base}.d.ts`, import: `${base}.js`, default: `${base}.js` };
  }
  exports["./package.json"] = "./package.json";
  const main = exportsMap["."] ? emittedBase(exportsMap["."]) : undefined;
  const cli = exportsMap["./cli"] ? `${emittedBase(exportsMap["./cli"])}.js` : undefined;
  return {
    name: deno.name,
    version: deno.version,
    description: deno.description ?? DEFAULT_DESCRIPTION,
    keywords: KEYWORDS,
    license: deno.license ?? "MIT",
    type: "module",
    ...(main ? { main: `${main}.js`, types: `${main}.d.ts` } : {}),
    exports,
    files: [`${ESM}/`, ...extras],
    // The CLI module runs the command when it is the entry point.
    ...(cli ? { bin: { webfcgi: cli } } : {}),
    sideEffects: cli ? [cli] : false,
    engines: { node: NODE_ENGINES },
  };
}
