// Prints the float32 coefficients of assembly/act.ts's erf: Chebyshev interpolation in float64
// (N + 1 Chebyshev nodes), converted to monomials in the mapped variable, rounded to float32.
//   P: erf(x) / x as a polynomial of t = 2x² − 1 on |x| ≤ 1 (degree 7)
//   R: erfc(x) · e^(x²) as a polynomial of s = (2x − 5) / 3 on [1, 4] (degree 12)
// `node assembly/erf-fit.mjs` (not part of the build: the coefficients are literals in act.ts).

/** erf in float64 by its positive series (to ~1e-16 for |x| ≤ 6). */
function erf64(x) {
  const a = Math.abs(x);
  let term = a;
  let s = a;
  for (let n = 1; n < 800 && term > 1e-19 * s; n++) {
    term *= (2 * a * a) / (2 * n + 1);
    s += term;
  }
  const v = (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * s;
  return x < 0 ? -v : v;
}

/** erfc for x ≥ 0 (continued fraction past 2, where 1 − erf loses digits). */
function erfc64(x) {
  if (x < 2) return 1 - erf64(x);
  let f = 0;
  for (let k = 200; k >= 1; k--) f = k / 2 / (x + f);
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / (x + f);
}

/** Monomial coefficients (in the variable mapped to [−1, 1]) of F's degree-N Chebyshev interpolant on [A, B]. */
function fit(F, A, B, N) {
  const M = N + 1;
  const c = new Float64Array(M);
  for (let j = 0; j <= N; j++) {
    let s = 0;
    for (let k = 0; k < M; k++) {
      const th = (Math.PI * (k + 0.5)) / M;
      s += F((A + B) / 2 + ((B - A) / 2) * Math.cos(th)) * Math.cos(j * th);
    }
    c[j] = (2 * s) / M;
  }
  c[0] /= 2;
  const T = [[1], [0, 1]]; // Chebyshev polynomials in monomials
  for (let k = 2; k <= N; k++) {
    const r = new Array(k + 1).fill(0);
    T[k - 1].forEach((v, i) => {
      r[i + 1] += 2 * v;
    });
    T[k - 2].forEach((v, i) => {
      r[i] -= v;
    });
    T.push(r);
  }
  const m = new Float64Array(M);
  for (let j = 0; j <= N; j++) T[j].forEach((v, i) => (m[i] += c[j] * v));
  return Array.from(m, Math.fround);
}

const P = fit((u) => (u === 0 ? 2 / Math.sqrt(Math.PI) : erf64(Math.sqrt(u)) / Math.sqrt(u)), 0, 1, 7);
const R = fit((x) => erfc64(x) * Math.exp(x * x), 1, 4, 12);
console.log("P (highest degree first):", P.reverse().join(", "));
console.log("R (highest degree first):", R.reverse().join(", "));
