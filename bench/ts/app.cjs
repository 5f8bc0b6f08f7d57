// The benchmark services written with the TypeScript SDK (@restatedev/restate-sdk, pinned in
// package.json / package-lock.json), functionally identical to bench/apps/ours.py and official.py.
// Plain JavaScript so that it runs without a build step; the SDK is the same either way.
//
// Usage: node bench/ts/app.cjs PORT   (service names carry BENCH_PREFIX, default "Ts")
"use strict";

// SDK 1.17 calls Promise.withResolvers (Node >= 22); Node 20 lacks it.
Promise.withResolvers ??= function () {
  let resolve, reject;
  const promise = new Promise((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

const http2 = require("node:http2");
const restate = require("@restatedev/restate-sdk");

const PREFIX = process.env.BENCH_PREFIX || "Ts";

const bench = restate.service({
  name: `${PREFIX}Bench`,
  handlers: {
    noop: async (ctx, x) => x,
    // async step functions (like `async def` in the Python apps)
    steps: async (ctx, n) => {
      let total = 0;
      for (let i = 0; i < n; i++) total += await ctx.run("step", async () => i);
      return total;
    },
    // plain step functions (like `def` in the Python apps)
    steps_def: async (ctx, n) => {
      let total = 0;
      for (let i = 0; i < n; i++) total += await ctx.run("step", () => i);
      return total;
    },
    call: async (ctx, x) => ctx.serviceClient({ name: `${PREFIX}Bench` }).noop(x),
    sleep: async (ctx, ms) => {
      await ctx.sleep(ms);
      return ms;
    },
  },
});

const counter = restate.object({
  name: `${PREFIX}Counter`,
  handlers: {
    add: async (ctx, delta) => {
      const value = ((await ctx.get("count")) ?? 0) + delta;
      ctx.set("count", value);
      return value;
    },
  },
});

const port = Number(process.argv[2]);
const server = http2.createServer(restate.createEndpointHandler({ services: [bench, counter] }));
server.listen(port, "127.0.0.1");
// restate-server keeps its connection open: stop at once rather than wait for it to close.
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
