// The handler of the 100 MB download tests: GET ...?bytes=N answers N bytes
// from a pull() that makes a fresh 1 MiB buffer each time, as a real app
// would (tests/support/pattern.ts's chunks, so the client can check them).
import { chunk } from "./pattern.ts";

const MB = 1 << 20;

/** Answers `bytes` (from the query) bytes in fresh 1 MiB chunks. */
export function downloadHandler(request: Request): Response {
  const total = Number(new URL(request.url).searchParams.get("bytes"));
  let k = 0;
  let pulled = 0;
  return new Response(
    new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= total) return controller.close();
        controller.enqueue(chunk(k++, MB).slice());
        pulled += MB;
      },
    }),
    { headers: { "content-type": "application/octet-stream" } },
  );
}
