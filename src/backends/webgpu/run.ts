/// <reference types="@webgpu/types" />
/**
 * The WebGPU backend's host side: plans every (batch, head) (the same planAll as every
 * backend), splits the heads into chunks whose buffers fit the device's binding limits,
 * and per chunk uploads q, k, v and the packed plan, dispatches `attend` (one workgroup per
 * task) then `merge` (one invocation per output row), and reads out / lse back.
 * Packed plans are cached on the GPU by the identity of the parts arrays (WeakMap): a plan
 * object reused across calls (compiled plans) is uploaded once.
 */
import { AttentionArgumentError } from "../../errors.js";
import { type PlanTotals, planTotals } from "../../layout/plan.js";
import type { Plan, PlanPart } from "../../types.js";
import type { Shapes } from "../../validate.js";
import type { GpuContext } from "./device.js";
import { type ChunkWork, chunkWork, type HeadPlan, type PackedPlan, packedPlanBytes, packParts } from "./pack.js";
import { keysPerChunk, MAX_HEAD_DIM, MERGE_WG, NEG_HOST, shaderSource, TASK_WORDS, WORKGROUP_BYTES } from "./wgsl.js";

const MAX_GROUPS = 65535;
/** GPUBufferUsage / GPUMapMode values (the spec's constants: no global needed, Dawn's stay out of globalThis). */
const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
const MAP_READ_MODE = 0x1;

export interface GpuProblem {
  shapes: Shapes;
  q: Float32Array; // [B, H, Lq, D]
  k: Float32Array; // [B, Hkv, Lk, D], already transformed by the pattern
  v: Float32Array; // [B, Hkv, Lk, D]
  /** The compiled plan (its dims match the shapes). */
  plan: Plan;
  scale: number;
  /** Arrays to read the result back into ([B, H, Lq, D], [B, H, Lq]; every entry is written); default new ones. */
  out?: Float32Array;
  lse?: Float32Array;
  /** Tests only: a smaller storage-binding limit than the device's, to exercise dispatch splitting. */
  maxBindingBytes?: number;
}

export interface GpuResult {
  out: Float32Array;
  lse: Float32Array;
  totals: PlanTotals;
  /** Bytes of GPU buffers this call held at most at once. */
  gpuBytes: number;
  /** Compute dispatches (two per chunk of heads). */
  dispatches: number;
  /** Packed plans uploaded by this call (0 when every chunk's plan was already on the GPU). */
  planUploads: number;
}

/** What the device's limits allow, before anything is planned; empty when it can run. */
export function limitReasons(limits: GPUSupportedLimits, s: Shapes): string[] {
  const reasons: string[] = [];
  if (s.D > MAX_HEAD_DIM) reasons.push(`headDim ${s.D} is above the WebGPU kernel's ${MAX_HEAD_DIM}`);
  if (WORKGROUP_BYTES > limits.maxComputeWorkgroupStorageSize) {
    reasons.push(
      `the kernel needs ${WORKGROUP_BYTES} bytes of workgroup memory, above the device's maxComputeWorkgroupStorageSize ${limits.maxComputeWorkgroupStorageSize}`,
    );
  }
  const bind = maxBinding(limits);
  const head = Math.max(s.Lq, s.Lk) * s.D * 4;
  if (head > bind) {
    reasons.push(
      `one head's rows (${head} bytes) exceed the device's largest storage binding (${bind} bytes: maxStorageBufferBindingSize / maxBufferSize)`,
    );
  }
  return reasons;
}

function maxBinding(limits: GPUSupportedLimits): number {
  return Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
}

interface Pipelines {
  attend: GPUComputePipeline;
  merge: GPUComputePipeline;
}

const pipelineCache = new WeakMap<GPUDevice, Promise<Pipelines>>();

/** The two pipelines of one device, compiled once (one shader for every head dimension). */
function pipelines(device: GPUDevice): Promise<Pipelines> {
  let hit = pipelineCache.get(device);
  if (hit === undefined) {
    const module = device.createShaderModule({ code: shaderSource(), label: "sparse-attention" });
    hit = Promise.all([
      device.createComputePipelineAsync({ layout: "auto", compute: { module, entryPoint: "attend" } }),
      device.createComputePipelineAsync({ layout: "auto", compute: { module, entryPoint: "merge" } }),
    ]).then(([attend, merge]) => ({ attend, merge }));
    pipelineCache.set(device, hit);
    hit.catch(() => pipelineCache.delete(device));
  }
  return hit;
}

interface CachedPlan {
  device: GPUDevice;
  parts: PlanPart[];
  plan: PackedPlan;
  buffer: GPUBuffer;
}

/** GPU copies of packed plans, keyed by the first parts array of the chunk (checked part by part). */
const planCache = new WeakMap<PlanPart[], CachedPlan>();

function sameParts(a: PlanPart[], b: PlanPart[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function distinctParts(heads: readonly HeadPlan[], bh0: number, bh1: number): PlanPart[] {
  const seen = new Set<PlanPart>();
  const out: PlanPart[] = [];
  for (let bh = bh0; bh < bh1; bh++) {
    for (const p of heads[bh].parts) {
      if (!seen.has(p)) {
        seen.add(p);
        out.push(p);
      }
    }
  }
  return out;
}

function uploadPlan(device: GPUDevice, key: PlanPart[], parts: PlanPart[], counter: { uploads: number }): CachedPlan {
  const hit = planCache.get(key);
  if (hit && hit.device === device && sameParts(hit.parts, parts)) return hit;
  counter.uploads++;
  const plan = packParts(parts);
  const buffer = device.createBuffer({
    size: plan.words.byteLength,
    usage: USAGE.STORAGE | USAGE.COPY_DST,
    label: "plan",
  });
  device.queue.writeBuffer(buffer, 0, plan.words as Uint32Array<ArrayBuffer>);
  const entry = { device, parts, plan, buffer };
  planCache.set(key, entry);
  return entry;
}

interface Chunk {
  bh0: number;
  bh1: number;
}

/** Scratch rows (rows of tiles with work) and tasks of one head's plan. */
function headWork(parts: PlanPart[]): { rows: number; tasks: number } {
  let rows = 0;
  let tasks = 0;
  for (const p of parts) {
    const numQT = p.qTiles.length - 1;
    for (let qt = 0; qt < numQT; qt++) {
      if (p.rowPtr[qt + 1] === p.rowPtr[qt]) continue;
      tasks++;
      rows += p.qTiles[qt + 1] - p.qTiles[qt];
    }
  }
  return { rows, tasks };
}

/** Greedy: as many consecutive heads per chunk as the binding limit allows; a head that alone does not fit is an error. */
function splitChunks(heads: readonly HeadPlan[], s: Shapes, bind: number): Chunk[] {
  const chunks: Chunk[] = [];
  const D4 = s.D * 4;
  let bh0 = 0;
  let rows = 0;
  let tasks = 0;
  let plan = 0;
  let seen = new Set<PlanPart>();
  for (let bh = 0; bh < heads.length; bh++) {
    const w = headWork(heads[bh].parts);
    const newParts = heads[bh].parts.filter((p) => !seen.has(p));
    const addPlan = packedPlanBytes(newParts);
    const fits = (nbh: number, nkv: number, r: number, t: number, pl: number): boolean =>
      nbh * s.Lq * D4 <= bind &&
      nkv * s.Lk * D4 <= bind &&
      r * D4 <= bind &&
      4 * (nbh * s.Lq + 1) <= bind &&
      4 * t * TASK_WORDS <= bind &&
      pl <= bind;
    const nbh = bh - bh0 + 1;
    const nkv = heads[bh].kvRow - heads[bh0].kvRow + 1;
    if (bh > bh0 && !fits(nbh, nkv, rows + w.rows, tasks + w.tasks, plan + addPlan)) {
      chunks.push({ bh0, bh1: bh });
      bh0 = bh;
      rows = 0;
      tasks = 0;
      plan = 0;
      seen = new Set();
      bh--; // redo this head as the first of the next chunk
      continue;
    }
    if (bh === bh0 && !fits(1, 1, w.rows, w.tasks, packedPlanBytes(heads[bh].parts))) {
      throw new AttentionArgumentError(
        "backend",
        "webgpu",
        `a device whose storage bindings hold one (batch, head): its plan needs ${packedPlanBytes(heads[bh].parts)} bytes and ${w.rows * D4} bytes of partial rows, above maxStorageBufferBindingSize / maxBufferSize = ${bind}; use backend "wasm"`,
      );
    }
    rows += w.rows;
    tasks += w.tasks;
    plan += addPlan;
    for (const p of newParts) seen.add(p);
  }
  if (bh0 < heads.length) chunks.push({ bh0, bh1: heads.length });
  return chunks;
}

function storage(device: GPUDevice, data: Float32Array | Uint32Array, label: string): GPUBuffer {
  const buffer = device.createBuffer({
    size: Math.max(16, data.byteLength),
    usage: USAGE.STORAGE | USAGE.COPY_DST,
    label,
  });
  device.queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>);
  return buffer;
}

function scratch(device: GPUDevice, bytes: number, label: string): GPUBuffer {
  return device.createBuffer({
    size: Math.max(16, bytes),
    usage: USAGE.STORAGE | USAGE.COPY_SRC,
    label,
  });
}

function grid(count: number): [number, number] {
  const nx = Math.max(1, Math.min(count, MAX_GROUPS));
  return [nx, Math.max(1, Math.ceil(count / nx))];
}

/** Runs one problem on `ctx.device`. Rejects with the device's validation message if WebGPU rejects anything. */
export async function runWebGPU(ctx: GpuContext, p: GpuProblem): Promise<GpuResult> {
  const { device } = ctx;
  const s = p.shapes;
  const reasons = limitReasons(device.limits, s);
  if (reasons.length > 0) {
    throw new AttentionArgumentError(
      "options.backend",
      "webgpu",
      `a problem this device can run (${reasons.join("; ")})`,
    );
  }
  const group = s.H / s.Hkv;
  const heads: HeadPlan[] = new Array(s.B * s.H);
  for (let b = 0; b < s.B; b++) {
    for (let h = 0; h < s.H; h++) {
      heads[b * s.H + h] = { parts: p.plan.rows[b * s.H + h], kvRow: b * s.Hkv + Math.floor(h / group) }; // bh = b·H + h
    }
  }
  const totals = planTotals(p.plan);
  const pipes = await pipelines(device);
  const bindLimit = Math.min(maxBinding(device.limits), p.maxBindingBytes ?? Number.POSITIVE_INFINITY);
  const chunks = splitChunks(heads, s, bindLimit);
  const counter = { uploads: 0 };
  // the chunks cover every (batch, head): each entry of out / lse is read back into
  const out = p.out ?? new Float32Array(s.B * s.H * s.Lq * s.D);
  const lse = p.lse ?? new Float32Array(s.B * s.H * s.Lq);
  const LqD = s.Lq * s.D;
  const LkD = s.Lk * s.D;
  let gpuBytes = 0;
  for (const ch of chunks) {
    const kv0 = heads[ch.bh0].kvRow;
    const kv1 = heads[ch.bh1 - 1].kvRow + 1;
    const parts = distinctParts(heads, ch.bh0, ch.bh1);
    device.pushErrorScope("out-of-memory");
    device.pushErrorScope("validation");
    const cached = uploadPlan(device, heads[ch.bh0].parts, parts, counter);
    const work: ChunkWork = chunkWork(heads, ch.bh0, ch.bh1, kv0, s.Lq, cached.plan);
    const rows = (ch.bh1 - ch.bh0) * s.Lq;
    const bufs: GPUBuffer[] = [];
    const keep = <T extends GPUBuffer>(b: T): T => {
      bufs.push(b);
      return b;
    };
    const qBuf = keep(storage(device, p.q.subarray(ch.bh0 * LqD, ch.bh1 * LqD), "q")); // q: [B·H, Lq, D] rows bh0..bh1
    const kBuf = keep(storage(device, p.k.subarray(kv0 * LkD, kv1 * LkD), "k")); // k: [B·Hkv, Lk, D] rows kv0..kv1
    const vBuf = keep(storage(device, p.v.subarray(kv0 * LkD, kv1 * LkD), "v"));
    const taskBuf = keep(storage(device, work.tasks, "tasks"));
    const ptrBuf = keep(storage(device, work.mergePtr, "merge rows"));
    const idxBuf = keep(storage(device, work.mergeIdx, "merge entries"));
    const poBuf = keep(scratch(device, work.scratchRows * s.D * 4, "partial out"));
    const plBuf = keep(scratch(device, work.scratchRows * 4, "partial lse"));
    const oBuf = keep(scratch(device, rows * s.D * 4, "out"));
    const olBuf = keep(scratch(device, rows * 4, "lse"));
    const readO = keep(
      device.createBuffer({
        size: Math.max(16, rows * s.D * 4),
        usage: USAGE.MAP_READ | USAGE.COPY_DST,
      }),
    );
    const readL = keep(device.createBuffer({ size: Math.max(16, rows * 4), usage: USAGE.MAP_READ | USAGE.COPY_DST }));
    const [nx, ny] = grid(work.numTasks);
    const [mx, my] = grid(Math.ceil(rows / MERGE_WG));
    const params = new ArrayBuffer(48);
    const pu = new Uint32Array(params);
    const pf = new Float32Array(params);
    pu[0] = s.Lq;
    pu[1] = s.Lk;
    pu[2] = work.numTasks;
    pu[3] = nx;
    pf[4] = p.scale;
    pu[5] = rows;
    pu[6] = s.D;
    pu[7] = keysPerChunk(s.D);
    pu[8] = work.scratchRows;
    const attendParams = keep(device.createBuffer({ size: 48, usage: USAGE.UNIFORM | USAGE.COPY_DST }));
    device.queue.writeBuffer(attendParams, 0, params);
    pu[3] = mx;
    const mergeParams = keep(device.createBuffer({ size: 48, usage: USAGE.UNIFORM | USAGE.COPY_DST }));
    device.queue.writeBuffer(mergeParams, 0, params);
    const bind = (pipe: GPUComputePipeline, buffers: GPUBuffer[]): GPUBindGroup =>
      device.createBindGroup({
        layout: pipe.getBindGroupLayout(0),
        entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    if (work.numTasks > 0) {
      pass.setPipeline(pipes.attend);
      pass.setBindGroup(0, bind(pipes.attend, [attendParams, qBuf, kBuf, vBuf, cached.buffer, taskBuf, poBuf, plBuf]));
      pass.dispatchWorkgroups(nx, ny);
    }
    pass.setPipeline(pipes.merge);
    pass.setBindGroup(0, bind(pipes.merge, [mergeParams, poBuf, plBuf, ptrBuf, idxBuf, oBuf, olBuf]));
    pass.dispatchWorkgroups(mx, my);
    pass.end();
    enc.copyBufferToBuffer(oBuf, 0, readO, 0, rows * s.D * 4);
    enc.copyBufferToBuffer(olBuf, 0, readL, 0, rows * 4);
    device.queue.submit([enc.finish()]);
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    let bytes = cached.buffer.size;
    for (const b of bufs) bytes += b.size;
    gpuBytes = Math.max(gpuBytes, bytes);
    try {
      const err = validation ?? oom;
      if (err) throw new Error(`WebGPU rejected the attention dispatch: ${err.message}`);
      await Promise.all([readO.mapAsync(MAP_READ_MODE), readL.mapAsync(MAP_READ_MODE)]);
      out.set(new Float32Array(readO.getMappedRange(), 0, rows * s.D), ch.bh0 * LqD); // out: [B·H, Lq, D]
      const l = new Float32Array(readL.getMappedRange(), 0, rows);
      const base = ch.bh0 * s.Lq; // lse: [B·H, Lq]
      for (let r = 0; r < rows; r++) lse[base + r] = l[r] <= NEG_HOST ? Number.NEGATIVE_INFINITY : l[r];
      readO.unmap();
      readL.unmap();
    } finally {
      for (const b of bufs) b.destroy();
    }
  }
  return { out, lse, totals, gpuBytes, dispatches: 2 * chunks.length, planUploads: counter.uploads };
}
