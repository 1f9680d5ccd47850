import { describe, expect, test } from "vitest";
import { attention, explain, patterns } from "./index.js";
import { randomTensor } from "./util/rng.js";

const q = randomTensor([1, 4, 10, 8], 1);
const k = randomTensor([1, 2, 12, 8], 2);
const v = randomTensor([1, 2, 12, 8], 3);

describe("bad input gets an error naming the argument, the value and the expected form", () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      "wrong rank",
      () => attention({ data: q.data, shape: [4, 10, 8] as never }, k, v),
      /q\.shape: got \[4, 10, 8\]; expected 4 dimensions/,
    ],
    [
      "non-Float32Array data",
      () => attention({ data: Array.from(q.data) as never, shape: q.shape }, k, v),
      /q\.data: got \[.*\]; expected a Float32Array/,
    ],
    [
      "Float64Array data",
      () => attention(q, { data: new Float64Array(k.data) as never, shape: k.shape }, v),
      /k\.data: got Float64Array\(192\); expected a Float32Array/,
    ],
    [
      "length != product of shape",
      () => attention({ data: q.data.subarray(1), shape: q.shape }, k, v),
      /q\.data\.length: got 319; expected 320 = product of q\.shape/,
    ],
    [
      "empty dimension",
      () => attention({ data: new Float32Array(0), shape: [1, 4, 0, 8] }, k, v),
      /q\.shape\[2\] \(length\): got 0; expected a positive integer/,
    ],
    [
      "H % Hkv != 0",
      () => attention(q, randomTensor([1, 3, 12, 8], 4), randomTensor([1, 3, 12, 8], 5)),
      /k\.shape\[1\] \(key\/value heads\): got 3; expected a divisor of q's 4 heads/,
    ],
    [
      "mismatched D",
      () => attention(q, randomTensor([1, 2, 12, 4], 4), randomTensor([1, 2, 12, 4], 5)),
      /k\.shape\[3\] \(headDim\): got 4; expected 8/,
    ],
    [
      "mismatched batch",
      () => attention(q, randomTensor([2, 2, 12, 8], 4), randomTensor([2, 2, 12, 8], 5)),
      /k\.shape\[0\] \(batch\): got 2; expected 1/,
    ],
    [
      "v differs from k",
      () => attention(q, k, randomTensor([1, 2, 11, 8], 5)),
      /v\.shape: got \[1, 2, 11, 8\]; expected \[1, 2, 12, 8\]/,
    ],
    [
      "non-finite scale",
      () => attention(q, k, v, { scale: Number.NaN }),
      /options\.scale: got NaN; expected a finite number/,
    ],
    ["infinite scale", () => attention(q, k, v, { scale: Number.POSITIVE_INFINITY }), /options\.scale: got Infinity/],
    [
      "not a pattern",
      () => attention(q, k, v, { pattern: "causal" as never }),
      /options\.pattern: got "causal"; expected a pattern/,
    ],
    [
      "unknown backend",
      () => attention(q, k, v, { backend: "gpu" as never }),
      /options\.backend: got "gpu"; expected one of/,
    ],
    [
      "bad causal align",
      () => patterns.causal({ align: "left" as never }),
      /causal\(\{ align \}\): got "left"; expected "top-left" or "bottom-right"/,
    ],
    ["mask not a function", () => patterns.mask(3 as never), /patterns\.mask\(fn\): got 3; expected a function/],
    ["empty union", () => patterns.union(), /patterns\.union\(\): got \[\]; expected at least one pattern/],
    [
      "explain without headDim",
      () => explain(patterns.dense(), { queryLength: 8 } as never),
      /options\.headDim: got undefined; expected an integer >= 1/,
    ],
  ];
  for (const [name, run, message] of cases) {
    test(name, () => {
      expect(run).toThrow(message);
    });
  }
});
