// Codec throughput through the public API: STDOUT records out, STDIN records
// in (fed as 64 KiB reads on record bounds, and as 65000-byte reads that
// split records, whole or in pieces), and the name-value pairs of a typical
// nginx request.
import {
  decodePairs,
  encodePairs,
  encodeStream,
  type FastCGIRecord,
  RecordDecoder,
  type RecordDecoderOptions,
  RecordType,
} from "../../../mod.ts";
import { measure, type MicroResult } from "./harness.ts";
import { NGINX_PARAMS } from "./params_fixture.ts";

const MIB = 1 << 20;

export async function codecBenchmarks(budgetMs: number): Promise<MicroResult[]> {
  const payload = new Uint8Array(MIB).fill(0x78);
  const stdin = encodeStream(RecordType.STDIN, 1, payload, true);
  /** `stdin` as socket reads of `size` bytes. */
  const reads = (size: number) => {
    const out: Uint8Array[] = [];
    for (let at = 0; at < stdin.length; at += size) out.push(stdin.subarray(at, at + size));
    return out;
  };
  const aligned = reads(65536);
  // Reads that do not line up with records, as a socket gives them.
  const odd = reads(65000);
  const pairs = Object.entries(NGINX_PARAMS);
  const block = encodePairs(pairs);
  let received = 0;
  const onRecord = (record: FastCGIRecord) => {
    received += record.content.length;
  };
  const decode = (chunks: Uint8Array[], options?: RecordDecoderOptions) => () => {
    const decoder = new RecordDecoder(options);
    received = 0;
    for (const chunk of chunks) decoder.push(chunk, onRecord);
    return received;
  };
  return [
    await measure(
      "encode STDOUT (1 MiB)",
      "MB",
      MIB,
      () => encodeStream(RecordType.STDOUT, 1, payload, true),
      budgetMs,
    ),
    await measure(
      "decode STDIN (1 MiB, 64 KiB reads on record bounds; views)",
      "MB",
      MIB,
      decode(aligned),
      budgetMs,
    ),
    await measure(
      "decode STDIN (1 MiB, 65000-byte reads; records assembled)",
      "MB",
      MIB,
      decode(odd),
      budgetMs,
    ),
    await measure(
      "decode STDIN (1 MiB, 65000-byte reads; pieces, no copy)",
      "MB",
      MIB,
      decode(odd, { pieces: true }),
      budgetMs,
    ),
    await measure(
      `encode params (${pairs.length} pairs)`,
      "pairs",
      pairs.length,
      () => encodePairs(pairs),
      budgetMs,
    ),
    await measure(
      `decode params (${pairs.length} pairs)`,
      "pairs",
      pairs.length,
      () => decodePairs(block),
      budgetMs,
    ),
  ];
}
