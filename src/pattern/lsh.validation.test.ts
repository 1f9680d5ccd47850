/** patterns.lsh: bad options and misuse get clear errors. */
import { describe, expect, it } from "vitest";
import { randomRotations as rotations } from "../../test/helpers.js";
import { attention } from "../attention.js";
import { explain } from "../explain.js";
import { randomTensor } from "../util/rng.js";
import { dense, intersect, union } from "./algebra.js";
import { lsh } from "./lsh.js";

describe("patterns.lsh: validation", () => {
  const ok = { buckets: 4, hashes: 2, chunkLength: 8 };
  it.each([
    [{ ...ok, buckets: 3 }, /buckets.*got 3.*even integer/],
    [{ ...ok, buckets: 1 }, /buckets.*got 1.*>= 2/],
    [{ ...ok, buckets: 0 }, /buckets.*got 0/],
    [{ ...ok, buckets: 4.5 }, /buckets.*got 4.5/],
    [{ ...ok, chunkLength: 0 }, /chunkLength.*got 0.*>= 1/],
    [{ ...ok, hashes: 0 }, /hashes.*got 0.*integer in \[1, /],
    [{ ...ok, chunksBefore: -1 }, /chunksBefore.*got -1.*>= 0/],
    [{ ...ok, chunksAfter: -2 }, /chunksAfter.*got -2.*>= 0/],
    [{ ...ok, causal: "yes" }, /causal.*true or false/],
    [{ ...ok, seed: 1.5 }, /seed.*got 1.5.*integer/],
    [{ ...ok, chunk_length: 8 }, /chunk_length.*did you mean "chunkLength"/],
    [{ chunkLength: 8, rotations: [1, 2] }, /rotations.*Float32Array or Float64Array/],
    [{ chunkLength: 8, rotations: { data: new Int32Array(4), shape: [1, 1, 1, 4] } }, /rotations.*\.data.*Int32Array/],
    [
      { chunkLength: 8, rotations: { data: new Float32Array(4), shape: [1, 4] } },
      /rotations.*\.shape.*\[heads, headDim/,
    ],
    [
      { chunkLength: 8, rotations: { data: new Float32Array(5), shape: [1, 1, 1, 4] } },
      /data\.length.*got 5.*4 = product/,
    ],
    [{ chunkLength: 8, buckets: 4, rotations: rotations(1, 1, 2, 1, 8) }, /buckets.*got 4.*8 = 2 × rotations/],
    [{ chunkLength: 8, hashes: 2, rotations: rotations(1, 1, 2, 1, 8) }, /hashes.*got 2.*1 = rotations.shape\[2\]/],
    [{ chunkLength: 8, seed: 1, rotations: rotations(1, 1, 2, 1, 8) }, /either seed or rotations/],
    [{ ...ok, buckets: [4, 3] }, /buckets \}\)\[1\].*got 3.*even integer/],
    [{ ...ok, buckets: [] }, /buckets.*got \[\].*list/],
    [{ chunkLength: 8, hashes: 2 }, /buckets.*got undefined.*even integer/],
    [{ ...ok, buckets: [8192, 4096] }, /at most 2\^24 buckets/],
    [{ ...ok, buckets: 2 ** 20, hashes: 4096 }, /hashes.*got 4096.*\[1, 2047\]/],
    [{ chunkLength: 8, buckets: [2, 4], rotations: rotations(1, 1, 2, 1, 8) }, /sum of bucket factors\) = 8/],
    [null, /patterns.lsh\(options\)/],
  ])("rejects %o", (options, message) => {
    expect(() => lsh(options as never)).toThrow(message);
  });

  it("rejects rotations that do not fit q's heads or head dimension, at attention time", () => {
    const qk = randomTensor([1, 2, 16, 4], 1);
    const rot = rotations(1, 1, 4, 2, 4); // one head, q has two
    expect(() => attention(qk, qk, qk, { pattern: lsh({ chunkLength: 4, rotations: rot }) })).toThrow(
      /rotations.*shape.*\[2, 4, 2, 2\]/,
    );
    const rot2 = rotations(1, 2, 3, 2, 4); // headDim 3, q has 4
    expect(() => attention(qk, qk, qk, { pattern: lsh({ chunkLength: 4, rotations: rot2 }) })).toThrow(
      /head dimension/,
    );
  });

  it("rejects Lq != Lk, composition, the reference backend and data-free explain", () => {
    const p = lsh(ok);
    const q = randomTensor([1, 1, 16, 4], 1);
    const k = randomTensor([1, 1, 12, 4], 2);
    expect(() => attention(q, k, k, { pattern: p })).toThrow(/key length.*got 12.*16/);
    expect(() => union(p, dense())).toThrow(/do not compose/);
    expect(() => intersect(dense(), p)).toThrow(/argument 1.*do not compose/);
    expect(() => attention(q, q, q, { pattern: p, backend: "reference" })).toThrow(/content-dependent/);
    expect(() => explain(p, { queryLength: 16, headDim: 4 })).toThrow(/pass \{ q, k \}/);
    expect(() => p.bind({ queryLength: 16, keyLength: 16, heads: 1, headDim: 4 })).toThrow(/depends on q/);
  });
});
