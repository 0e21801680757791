// What `npm run limits` puts the server in, one scenario at a time. Each
// scenario opens its connections (`setup`, measured as the baseline), then
// puts `count` connections or requests into the state it measures (`load`),
// and reaches each of its `stages` in turn; the driver measures the server
// after each stage and divides the growth over the baseline by the count.
import {
  accepted,
  connectMany,
  countRecords,
  listOf,
  pump,
  repeat,
  settled,
  sleep,
  until,
} from "./peer.mjs";
import {
  bodyRecords,
  FILTER,
  getValues,
  nginxParams,
  pairs,
  paramsOfSize,
  record,
  requestHead,
  RESPONDER,
  STDIN,
  undefinedTypeRecords,
} from "./wire.mjs";

export const KiB = 1024;
const MiB = 1024 * KiB;
/** The defaults the scenarios measure (src/responder/config.ts, input_stream.ts). */
export const LIMITS = {
  maxParamsBytes: 262144,
  bodyHighWaterMark: 64 * KiB,
  maxUnreadBody: MiB,
  bodyStallTimeout: 5000,
  readAheadAfter: 1000,
};
const BODY = 4 * MiB;
const GET_VALUES_RESULT = 10;
const END_REQUEST = 3;

const totalAccepted = (sockets) => sockets.reduce((n, s) => n + accepted(s), 0);

/** `count` connections, all accepted by the server. */
async function plain(ctx, count) {
  const sockets = await connectMany(ctx.server.socketPath, count);
  await until(() => ctx.server.fds() >= ctx.fdsEmpty + count, 10000);
  return sockets;
}

/** Connections that asked FCGI_GET_VALUES for FCGI_MPXS_CONNS and got the answer. */
async function multiplexed(ctx, count) {
  const sockets = await plain(ctx, count);
  const counts = sockets.map((socket) => {
    const seen = countRecords(socket);
    socket.write(getValues(["FCGI_MPXS_CONNS"]));
    return seen;
  });
  const answered = await until(() => counts.every((c) => c[GET_VALUES_RESULT] >= 1), 10000);
  if (!answered) throw new Error("FCGI_GET_VALUES was not answered on every connection");
  ctx.records = counts;
  return sockets;
}

/** Requests started and ended since the baseline (`m`: an answer of mem or stats). */
export const started = (ctx, m) => m.started - ctx.base.started;
export const ended = (ctx, m) => m.ended - ctx.base.ended;
const endedNow = async (ctx) => ended(ctx, await ctx.server.stats());

async function allStarted(ctx, count, ms) {
  return await until(async () => started(ctx, await ctx.server.stats()) >= count, ms, 100);
}

/** On each socket, a held request (id 1) with `params`, then `body` written as the socket takes it. */
function holdRequests(sockets, role, params, bodySize) {
  const head = requestHead(1, role, params);
  const body = bodySize > 0 ? bodyRecords(STDIN, 1, bodySize) : [record(STDIN, 1)];
  const t0 = Date.now();
  const pumps = sockets.map((socket) => pump(socket, listOf([head, ...body])));
  return { t0, pumps };
}

const bodyParams = (extra = []) =>
  pairs([
    ...nginxParams({ method: "POST", uri: "/hold", contentLength: String(BODY) }),
    ...extra,
  ]);

/**
 * @typedef {{ id: string, label: string, nominal?: number, reach: Function }} Stage
 * @typedef {{ id: string, title: string, unit: string, count: (o: any) => number,
 *   about: string, setup: Function, load: Function, stages: Stage[] }} Scenario
 */

/** @type {Scenario[]} */
export const SCENARIOS = [
  {
    id: "idle",
    title: "Idle kept-open connection",
    unit: "connection",
    count: (o) => o.lightN,
    about: "Connections opened and left idle before any request (idleTimeout closes them " +
      "after 120 s by default).",
    setup: () => [],
    load: async (ctx) => {
      ctx.sockets.push(...(await plain(ctx, ctx.count)));
      return {};
    },
    stages: [{
      id: "open",
      label: "open, no request",
      reach: async (ctx) => {
        await sleep(300);
        return { ok: ctx.server.fds() >= ctx.fdsEmpty + ctx.count };
      },
    }],
  },
  {
    id: "params-max",
    title: "Request in flight, params of maxParamsBytes",
    unit: "request",
    count: (o) => o.n,
    about: "One request per connection whose PARAMS are exactly maxParamsBytes (262,144 " +
      "bytes: nginx-like params plus 8 KB headers) and whose handler has not answered.",
    setup: (ctx) => plain(ctx, ctx.count),
    load: (ctx) => holdRequests(ctx.sockets, RESPONDER, paramsOfSize(LIMITS.maxParamsBytes), 0),
    stages: [{
      id: "held",
      label: "handler awaiting",
      nominal: LIMITS.maxParamsBytes,
      reach: async (ctx) => ({ ok: await allStarted(ctx, ctx.count, 15000) }),
    }],
  },
  {
    id: "params-typical",
    title: "Request in flight, typical params",
    unit: "request",
    count: (o) => o.lightN,
    about: "The same with nginx's usual params for a browser's GET (1,124 bytes).",
    setup: (ctx) => plain(ctx, ctx.count),
    load: (ctx) => holdRequests(ctx.sockets, RESPONDER, pairs(nginxParams()), 0),
    stages: [{
      id: "held",
      label: "handler awaiting",
      nominal: pairs(nginxParams()).length,
      reach: async (ctx) => ({ ok: await allStarted(ctx, ctx.count, 15000) }),
    }],
  },
  {
    id: "body-unread",
    title: "Body not read, alone on its connection",
    unit: "request",
    count: (o) => o.n,
    about: "A POST of 4 MiB whose handler never reads its body; the peer writes all the " +
      "socket takes. At once the connection pauses at 64 KiB unread; after a second it reads " +
      "ahead to maxUnreadBody (1 MiB), to notice a web server that leaves.",
    setup: (ctx) => plain(ctx, ctx.count),
    load: (ctx) => holdRequests(ctx.sockets, RESPONDER, bodyParams(), BODY),
    stages: [{
      id: "at-once",
      label: "at once (< 1 s)",
      nominal: LIMITS.bodyHighWaterMark,
      reach: async (ctx, state) => {
        const by = state.t0 + 600;
        await allStarted(ctx, ctx.count, Math.max(0, by - Date.now()));
        await settled(() => totalAccepted(ctx.sockets), 100, Math.max(0, by - Date.now()));
        return { okIf: (m) => m.at - state.t0 < LIMITS.readAheadAfter };
      },
    }, {
      id: "read-ahead",
      label: "after 3 s (read ahead)",
      nominal: LIMITS.maxUnreadBody,
      reach: async (ctx, state) => {
        await sleep(Math.max(0, state.t0 + 3000 - Date.now()));
        await settled(() => totalAccepted(ctx.sockets), 300, 3000);
        return { ok: (await endedNow(ctx)) === 0 };
      },
    }],
  },
  {
    id: "mpx-stall",
    title: "Body not read, multiplexed connection",
    unit: "request",
    count: (o) => o.n,
    about: "The same on connections that asked FCGI_GET_VALUES for FCGI_MPXS_CONNS (counted " +
      "as multiplexed): the request may hold maxUnreadBody at once; after bodyStallTimeout " +
      "(5 s, checked once a second) it is aborted and the rest of its body is dropped.",
    setup: (ctx) => multiplexed(ctx, ctx.count),
    load: (ctx) => holdRequests(ctx.sockets, RESPONDER, bodyParams(), BODY),
    stages: [{
      id: "stalled",
      label: "before bodyStallTimeout",
      nominal: LIMITS.maxUnreadBody,
      reach: async (ctx, state) => {
        await allStarted(ctx, ctx.count, 3000);
        await settled(() => totalAccepted(ctx.sockets), 300, 3000);
        return {
          okIf: (m) => ended(ctx, m) === 0 && m.at - state.t0 < LIMITS.bodyStallTimeout,
        };
      },
    }, {
      id: "aborted",
      label: "after the abort",
      reach: async (ctx, state) => {
        const aborted = await until(
          async () => (await endedNow(ctx)) >= ctx.count,
          LIMITS.bodyStallTimeout + 10000,
          200,
        );
        // The rest of each body is read and dropped.
        await until(() => state.pumps.every((p) => p.done), 15000, 100);
        await settled(() => totalAccepted(ctx.sockets), 300, 3000);
        const ends = ctx.records.filter((c) => c[END_REQUEST] >= 1).length;
        return {
          ok: aborted && ends === ctx.count,
          note: `${ends} END_REQUEST, s after load: ${((Date.now() - state.t0) / 1000).toFixed(1)}`,
        };
      },
    }],
  },
  ...[["flood-1", 1, 1024], ["flood-n", null, 128]].map(([id, peers, chunks]) => ({
    id,
    title: `Management-record flood, ${peers === 1 ? "1 peer" : "N peers"}`,
    unit: "peer",
    count: (o) => peers ?? o.n,
    about: peers === 1
      ? "A peer that writes 8-byte management records of an undefined type (each answered by " +
        "a 16-byte FCGI_UNKNOWN_TYPE) as fast as the socket takes them, up to 64 MiB, and " +
        "never reads: the server must stop reading while its answers wait."
      : "The same from N peers at once, up to 8 MiB each.",
    setup: (ctx) => plain(ctx, ctx.count),
    load: (ctx) => {
      const flood = undefinedTypeRecords(8192);
      return { t0: Date.now(), pumps: ctx.sockets.map((s) => pump(s, repeat(flood, chunks))) };
    },
    stages: [{
      id: "settled",
      label: "flood settled",
      reach: async (ctx, state) => {
        const quiet = await settled(() => totalAccepted(ctx.sockets), 1000, 20000);
        const finished = state.pumps.filter((p) => p.done).length;
        return {
          ok: quiet && finished === 0,
          note: finished === 0
            ? `no peer got all its ${chunks * 64} KiB in`
            : `${finished} peer(s) got all ${chunks * 64} KiB in: reading did not pause`,
        };
      },
    }],
  })),
  {
    id: "filter",
    title: "Filter role, STDIN not read",
    unit: "request",
    count: (o) => o.n,
    about: "A Filter (role 3) request whose handler reads neither FCGI_STDIN nor FCGI_DATA, " +
      "with 4 MiB of STDIN written: its STDIN may hold maxUnreadBody from the start.",
    setup: (ctx) => plain(ctx, ctx.count),
    load: (ctx) =>
      holdRequests(ctx.sockets, FILTER, bodyParams([["FCGI_DATA_LENGTH", "1024"]]), BODY),
    stages: [{
      id: "held",
      label: "handler awaiting",
      nominal: LIMITS.maxUnreadBody,
      reach: async (ctx, state) => {
        await allStarted(ctx, ctx.count, 5000);
        await sleep(Math.max(0, state.t0 + 1500 - Date.now()));
        await settled(() => totalAccepted(ctx.sockets), 300, 3000);
        return { ok: (await endedNow(ctx)) === 0 };
      },
    }],
  },
];

/** Bytes per unit (connection, request, peer) the kernel took from the peers since `since`. */
export function peerBytesIn(ctx, since) {
  return (totalAccepted(ctx.sockets) - since) / ctx.count;
}

export { totalAccepted };
