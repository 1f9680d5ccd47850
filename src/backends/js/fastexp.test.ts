import { expect, test } from "vitest";
import { expNeg } from "./fastexp.js";

test("expNeg matches Math.exp to 1e-8 relative on [-708, 0] and is 0 below", () => {
  let worst = 0;
  for (let i = 0; i <= 200000; i++) {
    const x = -708 * (i / 200000) ** 3;
    const rel = Math.abs(expNeg(x) - Math.exp(x)) / Math.exp(x);
    if (rel > worst) worst = rel;
  }
  expect(worst).toBeLessThan(1e-8);
  expect(expNeg(0)).toBe(1);
  expect(expNeg(-709)).toBe(0);
  expect(expNeg(Number.NEGATIVE_INFINITY)).toBe(0);
  expect(expNeg(Number.NaN)).toBe(0);
});
