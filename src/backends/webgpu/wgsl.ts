/**
 * The WGSL source of the WebGPU backend, generated per head dimension D (private arrays and
 * workgroup arrays need constant sizes). Two entry points:
 *
 *   attend  one workgroup per task = one query tile of one part of one (batch, head); one
 *           invocation per query row (row blocks of WG when a tile has more rows); key tiles
 *           streamed through workgroup memory KC keys at a time (K, V and the keys' original
 *           positions), online softmax per row; writes the tile's normalised rows and their
 *           log-sum-exp into a scratch row per (task, row).
 *   merge   one invocation per output row: merges the scratch rows of that row (parts, LSH
 *           rounds) by log-sum-exp, in plan order.
 *
 * WGSL implementations may assume no infinities, so "no allowed key" is never -Infinity on the
 * GPU: it is the sentinel NEG (the host turns it back into -Infinity) plus explicit flags.
 */

/** Invocations per workgroup of the attend kernel (one query row each). */
export const WG = 64;
/** Invocations per workgroup of the merge kernel. */
export const MERGE_WG = 64;
/** u32 words per task in the task table. */
export const TASK_WORDS = 8;
/** u32 words of a part descriptor at the head of each packed part. */
export const DESC_WORDS = 12;
/** "Absent" (identity gather, full tile) in u32 plan words. */
export const NONE = 0xffffffff;
/** The GPU's stand-in for -Infinity (the host maps lse <= NEG_HOST back to -Infinity). */
export const NEG = -3.0e38;
export const NEG_HOST = -1.0e38;

/** Floats of staged keys (and as many of values) in workgroup memory: KS / D keys per chunk. */
export const KS = 1024;
/** At most this many keys per chunk (the per-row score buffer in workgroup memory is [WG, KC_MAX]). */
export const KC_MAX = 16;
/** Largest head dimension: one staged key must fit KS floats. */
export const MAX_HEAD_DIM = KS;

/** Keys staged per chunk for head dimension D. */
export function keysPerChunk(D: number): number {
  return Math.max(1, Math.min(KC_MAX, Math.floor(KS / D)));
}

/** Workgroup memory the attend kernel declares (bytes): K and V stages, key positions, scores. */
export const WORKGROUP_BYTES = 4 * (2 * KS + KC_MAX + WG * KC_MAX);

/**
 * One shader for every head dimension (D is a parameter: a software adapter takes seconds
 * to compile each variant). No private arrays: a row's query is read from q, its running
 * output accumulates in its own scratch row (PO), its scores sit in workgroup memory.
 */
export function shaderSource(): string {
  return /* wgsl */ `
const WG: u32 = ${WG}u;
const KS: u32 = ${KS}u;
const KC_MAX: u32 = ${KC_MAX}u;
const NONE: u32 = ${NONE}u;
const NEG: f32 = ${NEG.toExponential()};

struct Params {
  Lq: u32,        // query length
  Lk: u32,        // key length
  numTasks: u32,  // tasks in this dispatch
  nx: u32,        // workgroups along x (tasks, or merge row blocks, are linearised y * nx + x)
  scale: f32,
  rows: u32,      // output rows of the merge: [nbh * Lq]
  D: u32,         // head dimension
  KC: u32,        // keys staged per chunk: min(KC_MAX, KS / D)
  SR: u32,        // scratch rows (PO is [D, SR]: a warp's rows are adjacent, its accesses coalesce)
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> Q: array<f32>;      // q: [nbh, Lq, D] (this chunk's heads)
@group(0) @binding(2) var<storage, read> K: array<f32>;      // k: [nkv, Lk, D]
@group(0) @binding(3) var<storage, read> V: array<f32>;      // v: [nkv, Lk, D]
@group(0) @binding(4) var<storage, read> plan: array<u32>;   // packed parts: descriptor + arrays
@group(0) @binding(5) var<storage, read> tasks: array<u32>;  // [numTasks, ${TASK_WORDS}]
@group(0) @binding(6) var<storage, read_write> PO: array<f32>; // scratch rows (running output), transposed: [D, SR]
@group(0) @binding(7) var<storage, read_write> PL: array<f32>; // scratch lse: [scratchRows]

var<workgroup> Ks: array<f32, ${KS}>;              // staged keys: [KC, D]
var<workgroup> Vs: array<f32, ${KS}>;              // staged values: [KC, D]
var<workgroup> kpos: array<u32, ${KC_MAX}>;        // their original key positions
var<workgroup> Ps: array<f32, ${WG * KC_MAX}>;     // scores, then probabilities: [WG, KC_MAX]

@compute @workgroup_size(${WG})
fn attend(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wid.y * P.nx + wid.x;
  if (t >= P.numTasks) { return; }
  let D = P.D;
  let KC = P.KC;
  let tb = t * ${TASK_WORDS}u;                 // tasks: [numTasks, ${TASK_WORDS}]
  let desc = tasks[tb];
  let qBase = tasks[tb + 1u] * P.Lq * D;        // q: [nbh, Lq, D], this head's block
  let kBase = tasks[tb + 2u] * P.Lk * D;        // k, v: [nkv, Lk, D], this kv head's block
  let qt = tasks[tb + 3u];
  let sBase = tasks[tb + 4u];                   // first scratch row of this task
  let qIdxOff = plan[desc];
  let kIdxOff = plan[desc + 1u];
  let qTilesOff = plan[desc + 2u];
  let kTilesOff = plan[desc + 3u];
  let rowPtrOff = plan[desc + 4u];
  let colIdxOff = plan[desc + 5u];
  let maskOffOff = plan[desc + 6u];
  let wordsOff = plan[desc + 7u];
  let hasSelf = plan[desc + 8u] != 0u;
  let selfScore = bitcast<f32>(plan[desc + 9u]);
  let s0 = plan[qTilesOff + qt];
  let rows = plan[qTilesOff + qt + 1u] - s0;
  let e0 = plan[rowPtrOff + qt];
  let e1 = plan[rowPtrOff + qt + 1u];
  let pRow = lid * KC_MAX;                      // Ps: [WG, KC_MAX]

  for (var rb = 0u; rb < rows; rb += WG) {
    let r = rb + lid;
    let live = r < rows;
    var qi = 0u;
    if (live) {
      qi = s0 + r;
      if (qIdxOff != NONE) { qi = plan[qIdxOff + s0 + r]; }
    }
    let qo = qBase + qi * D;                    // q: [Lq, D] block
    let row = sBase + r;                        // this row's column of PO: [D, SR]
    let SR = P.SR;
    var m = NEG;
    var l = 0.0;
    for (var e = e0; e < e1; e++) {
      let kt = plan[colIdxOff + e];
      let t0 = plan[kTilesOff + kt];
      let cols = plan[kTilesOff + kt + 1u] - t0;
      let mo = plan[maskOffOff + e];            // word offset of the partial mask, NONE if full
      for (var c0 = 0u; c0 < cols; c0 += KC) {
        let cnt = min(KC, cols - c0);
        workgroupBarrier();                     // the previous chunk is consumed
        for (var i = lid; i < cnt; i += WG) {
          var kp = t0 + c0 + i;
          if (kIdxOff != NONE) { kp = plan[kIdxOff + kp]; }
          kpos[i] = kp;
        }
        workgroupBarrier();
        for (var i = lid; i < cnt * D; i += WG) {
          let c = i / D;
          let src = kBase + kpos[c] * D + (i - c * D); // k, v: [Lk, D] block
          Ks[i] = K[src];                       // Ks, Vs: [KC, D]
          Vs[i] = V[src];
        }
        workgroupBarrier();
        if (live) {
          var ok = 0u;
          var mx = m;
          for (var c = 0u; c < cnt; c++) {
            var allowed = true;
            if (mo != NONE) {
              let bit = r * cols + c0 + c;      // mask tile: [rows, cols] bits
              allowed = ((plan[wordsOff + mo + (bit >> 5u)] >> (bit & 31u)) & 1u) != 0u;
            }
            if (allowed) {
              var s = 0.0;
              let ko = c * D;
              for (var d = 0u; d < D; d++) { s += Q[qo + d] * Ks[ko + d]; }
              s *= P.scale;
              if (hasSelf && kpos[c] == qi) { s = selfScore; }
              Ps[pRow + c] = s;
              if (s > mx) { mx = s; }
              ok |= 1u << c;
            }
          }
          if (ok != 0u) {
            var alpha = 0.0;
            if (l > 0.0) { alpha = exp(m - mx); }
            l *= alpha;
            for (var c = 0u; c < cnt; c++) {
              var p = 0.0;
              if ((ok & (1u << c)) != 0u) { p = exp(Ps[pRow + c] - mx); }
              Ps[pRow + c] = p;
              l += p;
            }
            for (var d = 0u; d < D; d++) {
              var a = 0.0;
              if (alpha != 0.0) { a = PO[d * SR + row] * alpha; }
              for (var c = 0u; c < cnt; c++) { a += Ps[pRow + c] * Vs[c * D + d]; }
              PO[d * SR + row] = a;
            }
            m = mx;
          }
        }
      }
    }
    if (live) {
      if (l > 0.0) {
        let inv = 1.0 / l;
        for (var d = 0u; d < D; d++) { PO[d * SR + row] *= inv; }
        PL[row] = m + log(l);
      } else {
        for (var d = 0u; d < D; d++) { PO[d * SR + row] = 0.0; }
        PL[row] = NEG;
      }
    }
  }
}

@group(0) @binding(0) var<uniform> M: Params;
@group(0) @binding(1) var<storage, read> SO: array<f32>;     // scratch rows, transposed: [D, SR]
@group(0) @binding(2) var<storage, read> SL: array<f32>;     // scratch lse: [scratchRows]
@group(0) @binding(3) var<storage, read> mptr: array<u32>;   // [rows + 1] CSR of each output row's scratch rows
@group(0) @binding(4) var<storage, read> midx: array<u32>;   // scratch row indices, plan order
@group(0) @binding(5) var<storage, read_write> O: array<f32>;  // out: [nbh, Lq, D]
@group(0) @binding(6) var<storage, read_write> OL: array<f32>; // lse: [nbh, Lq]

@compute @workgroup_size(${MERGE_WG})
fn merge(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.y * M.nx * ${MERGE_WG}u + gid.x;
  if (row >= M.rows) { return; }
  let D = M.D;
  let a = mptr[row];
  let b = mptr[row + 1u];
  let o = row * D;                              // out: [rows, D]
  var mx = NEG;
  var found = false;
  for (var i = a; i < b; i++) {
    let x = SL[midx[i]];
    if (x > NEG) {
      if (!found || x > mx) { mx = x; }
      found = true;
    }
  }
  for (var d = 0u; d < D; d++) { O[o + d] = 0.0; }
  if (!found) {
    OL[row] = NEG;
    return;
  }
  var total = 0.0;
  for (var i = a; i < b; i++) {
    let x = SL[midx[i]];
    if (x > NEG) { total += exp(x - mx); }
  }
  for (var i = a; i < b; i++) {
    let s = midx[i];
    let x = SL[s];
    if (x > NEG) {
      let w = exp(x - mx) / total;
      for (var d = 0u; d < D; d++) { O[o + d] += w * SO[d * M.SR + s]; } // SO: [D, SR]
    }
  }
  OL[row] = mx + log(total);
}
`;
}
