const encoder = new TextEncoder();

/**
 * A request body as the client sends it: none, bytes in memory (length
 * known), or a stream whose length is known or not.
 */
export type RequestBody =
  | { kind: "none" }
  | { kind: "bytes"; bytes: Uint8Array }
  | { kind: "stream"; stream: ReadableStream<Uint8Array>; length: number | null };

/** CONTENT_LENGTH for a body: "none" (no body), a number, or null (unknown). */
export function bodyLength(body: RequestBody): number | null | "none" {
  if (body.kind === "none") return "none";
  if (body.kind === "bytes") return body.bytes.length;
  return body.length;
}

function declaredLength(request: Request): number | null {
  const value = request.headers.get("content-length");
  return value !== null && /^\d+$/.test(value) ? Number(value) : null;
}

/**
 * Works out how to send the body of `request`. The length is known when
 * the body was given as `init.body` in a form with a size (string, bytes,
 * URLSearchParams, FormData, Blob) or the request declares Content-Length;
 * a stream without either has no known length unless `buffer` reads it
 * into memory first.
 */
export async function prepareBody(
  request: Request,
  initBody: BodyInit | null | undefined,
  buffer: boolean,
): Promise<RequestBody> {
  // Read the headers before the body: Bun builds them lazily and leaves out
  // the implied Content-Type once the body has been consumed.
  const length = declaredLength(request);
  const stream = request.body;
  if (stream === null) return { kind: "none" };
  if (initBody !== undefined && initBody !== null) {
    if (typeof initBody === "string") return { kind: "bytes", bytes: encoder.encode(initBody) };
    if (initBody instanceof URLSearchParams) {
      return { kind: "bytes", bytes: encoder.encode(initBody.toString()) };
    }
    if (initBody instanceof ArrayBuffer) return { kind: "bytes", bytes: new Uint8Array(initBody) };
    if (ArrayBuffer.isView(initBody)) {
      return {
        kind: "bytes",
        bytes: new Uint8Array(initBody.buffer, initBody.byteOffset, initBody.byteLength),
      };
    }
    if (initBody instanceof Blob) return { kind: "stream", stream, length: initBody.size };
    if (initBody instanceof FormData) {
      return { kind: "bytes", bytes: new Uint8Array(await request.arrayBuffer()) };
    }
  }
  if (length !== null) return { kind: "stream", stream, length };
  if (buffer) return { kind: "bytes", bytes: new Uint8Array(await request.arrayBuffer()) };
  return { kind: "stream", stream, length: null };
}
