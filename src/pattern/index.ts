/** `patterns`: every pattern factory, one namespace. */
export { causal, dense, intersect, mask, union } from "./algebra.js";
