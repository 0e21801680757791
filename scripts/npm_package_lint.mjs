// Checks of the packed npm package, run by scripts/npm_smoke.mjs:
//
// - publint (package.json fields, exports and files point at what exists)
//   on the built npm/ folder, --strict so its warnings fail too;
// - @arethetypeswrong/cli on the packed tarball, profile "esm-only": the
//   package is ESM only on purpose ("type": "module", no CommonJS build), so
//   the node10 resolution (which ignores "exports" and cannot see the
//   subpaths) and require() from CommonJS under node16 rules are out of
//   scope. Everything else (node16 from ESM, bundler) must be green.
//   --no-definitely-typed keeps it off the network;
// - the installed package.json against deno.json (the JSR manifest): the
//   same name, version and entry points, `engines`, the bin; and README.md
//   the very file of the repository.
//
// Each check returns { name, problem, output }; problem is null on success.

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";

const TIMEOUT_MS = 120_000;

function tool(root, name, args, cwd) {
  const command = join(root, "node_modules", ".bin", name);
  if (!existsSync(command)) return { problem: `${command} not found: run npm ci`, output: "" };
  const result = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    timeout: TIMEOUT_MS,
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trimEnd();
  if (result.error) return { problem: result.error.message, output };
  if (result.status !== 0) return { problem: `exit ${result.status ?? result.signal}`, output };
  return { problem: null, output };
}

/** Differences between the installed package.json and deno.json, as text lines. */
function manifestProblems(deno, installed, readme, repoReadme) {
  const problems = [];
  const check = (ok, message) => ok || problems.push(message);
  check(installed.name === deno.name, `name ${installed.name} != deno.json ${deno.name}`);
  check(
    installed.version === deno.version,
    `version ${installed.version} != deno.json ${deno.version}`,
  );
  const jsr = typeof deno.exports === "string" ? { ".": deno.exports } : deno.exports;
  const npmKeys = Object.keys(installed.exports ?? {}).filter((k) => k !== "./package.json");
  check(
    JSON.stringify([...npmKeys].sort()) === JSON.stringify(Object.keys(jsr).sort()),
    `npm exports ${npmKeys.join(", ")} != JSR exports ${Object.keys(jsr).join(", ")}`,
  );
  for (const [subpath, source] of Object.entries(jsr)) {
    const base = `./esm/${source.slice(2, -3)}`;
    const entry = installed.exports?.[subpath];
    check(
      entry?.import === `${base}.js` && entry?.types === `${base}.d.ts`,
      `npm export ${subpath} -> ${JSON.stringify(entry)}, not ${base}.js/.d.ts (from ${source})`,
    );
  }
  check(
    typeof installed.engines?.node === "string",
    "package.json states no engines.node",
  );
  if (jsr["./cli"]) {
    check(
      installed.bin?.webfcgi === `./esm/${jsr["./cli"].slice(2, -3)}.js`,
      `bin webfcgi -> ${installed.bin?.webfcgi}`,
    );
  }
  check(readme === repoReadme, "the package's README.md differs from the repository's");
  return problems;
}

/**
 * Runs the checks. `packageDir` is the built npm/ folder, `tarball` the
 * packed .tgz, `installedDir` the package inside the smoke project's
 * node_modules.
 */
export function lintPackage({ root, packageDir, tarball, installedDir }) {
  const results = [];
  const publint = tool(root, "publint", ["--strict", packageDir], root);
  results.push({ name: "publint --strict", ...publint });

  const attw = tool(root, "attw", [
    tarball,
    "--profile",
    "esm-only",
    "--no-definitely-typed",
    "--format",
    "ascii",
    "--no-emoji",
    "--no-color",
  ], root);
  results.push({ name: "attw --profile esm-only", ...attw });

  let problem = null;
  let output = "";
  try {
    const deno = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
    const installed = JSON.parse(readFileSync(join(installedDir, "package.json"), "utf8"));
    const readme = readFileSync(join(installedDir, "README.md"), "utf8");
    const repoReadme = readFileSync(join(root, "README.md"), "utf8");
    const problems = manifestProblems(deno, installed, readme, repoReadme);
    if (problems.length > 0) {
      problem = `${problems.length} difference(s)`;
      output = problems.join("\n");
    } else {
      output = `exports ${
        Object.keys(installed.exports).join(", ")
      }; engines.node ${installed.engines.node}; bin webfcgi; README.md identical`;
    }
  } catch (error) {
    problem = error.message;
  }
  results.push({ name: "installed package.json matches deno.json", problem, output });
  return results;
}
