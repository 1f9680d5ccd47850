// Types of bench/efficiency.mjs (for test/bench-efficiency.test.ts).
export interface DenseMeasurement {
  pairs: number;
  ms: number[];
  cpuMs?: number[];
}
export interface CaseMeasurement {
  label: string;
  threads: number;
  heads: number;
  allowedPairs: number;
  scoredPairs: number;
  ms: number[];
  cpuMs?: number[];
}
export interface EfficiencyRow {
  label: string;
  threads: number;
  heads: number;
  workEff: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  repeats: number;
  mpairsPerS: number;
  timeEff: number;
  effMin: number;
  effMax: number;
  cpuEff: number;
  kernelEff: number;
}
export interface FloorMeasurement {
  heads: number;
  ms: number[];
  denseMs: number[];
}
export function efficiencyRows(
  dense: Record<number, DenseMeasurement>,
  cases: CaseMeasurement[],
  floor?: Record<number, FloorMeasurement>,
): EfficiencyRow[];
export const EFFICIENCY_HEADER: string[];
export function efficiencyCells(r: EfficiencyRow): (string | number)[];
export interface PartLike {
  label: string;
  qIndex: Int32Array | null;
  kIndex: Int32Array | null;
  qTiles: Int32Array;
  kTiles: Int32Array;
  rowPtr: Int32Array;
  colIdx: Int32Array;
  maskOff: Int32Array;
  allowedPairs: number;
  scoredPairs: number;
}
export interface PartShape {
  label: string;
  tiles: number;
  partialTiles: number;
  partialTileShare: number;
  partialScoredShare: number;
  meanTileArea: number;
  qTileSizes: number[];
  kTileSizes: number[];
  gatherQ: boolean;
  gatherK: boolean;
  allowedPairs: number;
  scoredPairs: number;
}
export function planShape(parts: readonly PartLike[]): PartShape[];
export const SHAPE_HEADER: string[];
export function shapeCells(label: string, shape: PartShape[]): (string | number)[][];
