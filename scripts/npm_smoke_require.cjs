// The CommonJS side of scripts/npm_smoke_check.mjs, run by Node in the same
// temporary project: require() of the ESM-only package by name (Node loads
// ES modules from require() without a flag since 22.12 and 20.19). The
// `./cli` entry is not required: it is the bin, and its top-level await
// makes it import-only.

"use strict";
const assert = require("node:assert/strict");
const w = require("@webfcgi/webfcgi");
const client = require("@webfcgi/webfcgi/client");

assert.equal(typeof w.serveFastCGI, "function", "serveFastCGI");
assert.equal(typeof client.FastCGIClient, "function", "FastCGIClient");
assert.equal(typeof client.fetchFastCGI, "function", "fetchFastCGI");
const bytes = w.encodeRecord(w.RecordType.STDOUT, 3, new TextEncoder().encode("required"));
const seen = [];
new w.RecordDecoder().push(bytes, (record) => seen.push(new TextDecoder().decode(record.content)));
assert.deepEqual(seen, ["required"]);
console.log(`node ${process.version}: require ok`);
