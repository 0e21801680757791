// A time-bounded micro-benchmark loop: warm up, then run batches until the
// budget is spent; reports operations per second and units (bytes or pairs)
// per second.

/** One measured operation. */
export interface MicroResult {
  name: string;
  /** What `perOp` counts: "MB" (MiB of payload) or "pairs" or "ops". */
  unit: string;
  opsPerSecond: number;
  /** `unit`s per second (MiB/s for "MB"). */
  unitsPerSecond: number;
  nsPerOp: number;
  iterations: number;
}

const now = () => performance.now();

/** Keeps results alive so the engine cannot drop the work. */
export let sink: unknown = null;

/**
 * Runs `op` (sync or async) repeatedly for about `budgetMs` after a warm-up
 * of a quarter of that; `perOp` units of work per call.
 */
export async function measure(
  name: string,
  unit: string,
  perOp: number,
  op: () => unknown,
  budgetMs: number,
): Promise<MicroResult> {
  const run = async (ms: number) => {
    let iterations = 0;
    let batch = 1;
    const start = now();
    let elapsed = 0;
    while (elapsed < ms) {
      for (let i = 0; i < batch; i++) {
        const result = op();
        sink = result instanceof Promise ? await result : result;
      }
      iterations += batch;
      elapsed = now() - start;
      if (elapsed < ms / 20) batch *= 2;
    }
    return { iterations, elapsed };
  };
  await run(budgetMs / 4);
  const { iterations, elapsed } = await run(budgetMs);
  const opsPerSecond = (iterations * 1000) / elapsed;
  const scale = unit === "MB" ? 1 / (1 << 20) : 1;
  return {
    name,
    unit,
    opsPerSecond,
    unitsPerSecond: opsPerSecond * perOp * scale,
    nsPerOp: (elapsed * 1e6) / iterations,
    iterations,
  };
}
