/** `patterns`: every pattern factory, one namespace. */
export { causal, dense, intersect, mask, union } from "./algebra.js";
export { type LshOptions, type LshRotations, lsh } from "./lsh.js";
