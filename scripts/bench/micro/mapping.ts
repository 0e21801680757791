// Request/Response mapping cost: an nginx PARAMS block to a standard Request
// (decodeParams + buildRequest), and a handler's Response to the records that
// go out (header block, body, end). These are internal steps of the
// responder, loaded dynamically so that a refactor of src/ turns this part
// into "unavailable" instead of breaking the whole suite.
import { encodePairs, encodeStream, RecordType } from "../../../mod.ts";
import { measure, type MicroResult } from "./harness.ts";
import { NGINX_PARAMS } from "./params_fixture.ts";

type Params = Readonly<Record<string, string>>;

export async function mappingBenchmarks(budgetMs: number): Promise<MicroResult[]> {
  const paramsModule = await import("../../../src/responder/params.ts");
  const requestModule = await import("../../../src/responder/request.ts");
  const headModule = await import("../../../src/responder/response_head.ts");
  const recordsModule = await import("../../../src/responder/records_out.ts");
  const decodeParams = paramsModule.decodeParams as (
    block: Uint8Array,
    headerNames?: string[],
  ) => Params;
  const buildRequest = requestModule.buildRequest as (
    params: Params,
    body: null,
    headerNames?: readonly string[],
  ) => Request;
  const responseHead = headModule.responseHead as (response: Response) => string;
  const headRecord = recordsModule.headRecord as (id: number, head: string) => Uint8Array;
  const endRecords = recordsModule.endRecords as (id: number, status: number) => Uint8Array;
  for (
    const [name, fn] of Object.entries({
      decodeParams,
      buildRequest,
      responseHead,
      headRecord,
      endRecords,
    })
  ) {
    if (typeof fn !== "function") throw new Error(`src/responder no longer exports ${name}`);
  }

  const block = encodePairs(Object.entries(NGINX_PARAMS));
  const toRecords = async (response: Response) => {
    const out: Uint8Array[] = [headRecord(1, responseHead(response))];
    const reader = response.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      out.push(encodeStream(RecordType.STDOUT, 1, value));
    }
    out.push(endRecords(1, 0));
    return out;
  };
  const text = { "content-type": "text/plain" };
  return [
    // As the server does it: the HTTP_* names collected while decoding.
    await measure("params -> Request (27 params)", "ops", 1, () => {
      const names: string[] = [];
      const request = buildRequest(decodeParams(block, names), null, names);
      return request.headers;
    }, budgetMs),
    await measure(
      "Response -> records (hello)",
      "ops",
      1,
      () => toRecords(new Response("Hello, World!", { headers: text })),
      budgetMs,
    ),
  ];
}
