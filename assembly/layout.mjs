// THE layout table of the wasm module's memory: every descriptor the host writes and the
// kernel reads, the worker pool's control words and the memory's fixed regions. The one place
// these numbers are written. assembly/build.mjs generates from it, next to the embedded bytes:
//   assembly/layout.ts          byte offsets for the AssemblyScript kernel (`load<i32>(head, HEAD_D)`)
//   src/backends/wasm/layout.ts word indices and byte offsets for the TypeScript host and the
//                               pool's worker source
// `npm run check:wasm` fails when either committed file differs from a fresh generation;
// test/wasm-layout.test.ts reads both generated files back and compares them with this table.

/** Descriptors: fields in word order (4 bytes each; "f32" marks a float word), and their size in words. */
export const STRUCTS = {
  /** One (batch, head) of an attention call (wasm.ts writes, assembly/kernel.ts and merge.ts read). */
  HEAD: {
    words: 16,
    fields: [
      ["Q", "q block [Lq, D] of the head"],
      ["K", "k block [Lk, D] of its kv head"],
      ["V", "v block [Lk, D]"],
      ["OUT", "out block [Lq, D]"],
      ["LSE", "lse [Lq]"],
      ["PARTS", "its part descriptors"],
      ["NUM_PARTS", "parts of its plan"],
      ["D", "head dimension"],
      ["SCALE", "score scale", "f32"],
      ["RECORDS", "records of deferred merges [P − 1][Lq][D + 3] f32 (0 = none)"],
      ["LQ", "query rows"],
    ],
  },
  /** One part of a compiled plan (wasm-plan.ts placePlan writes, assembly/kernel.ts reads). */
  PART: {
    words: 16,
    fields: [
      ["Q_INDEX", "gathered query order (0 = identity)"],
      ["K_INDEX", "gathered key order (0 = identity)"],
      ["Q_TILES", "query tile bounds"],
      ["NUM_QT", "query tiles"],
      ["K_TILES", "key tile bounds"],
      ["ROW_PTR", "CSR row pointers"],
      ["COL_IDX", "CSR key tiles"],
      ["MASK_OFF", "word offsets into maskWords per CSR entry (-1 = full tile)"],
      ["MASK_WORDS", "bit masks of partial tiles"],
      ["HAS_SELF", "1 when selfScore applies"],
      ["SELF_SCORE", "score of a query with itself", "f32"],
      ["TQ_MAX", "rows of the largest query tile"],
      ["TK_MAX", "columns of the largest key tile"],
      ["K_WIN", "columns of the packed key window (a multiple of 4, >= CAP)"],
      ["CAP", "most columns of one pass (>= TK_MAX)"],
    ],
  },
  /** One work item of an attention call (wasm.ts writes, assembly/kernel.ts reads). */
  ITEM: {
    words: 4,
    fields: [
      ["HEAD", "its head descriptor"],
      ["PART", "part index, or an ITEM_KIND"],
      ["QT_BEGIN", "first query tile (ROW_BLOCK: pointer to [numParts][2] tile ranges; MERGE: first row)"],
      ["QT_END", "query tile after the last (MERGE: row after the last)"],
    ],
  },
  /** One linear() call (gemm.ts writes, assembly/gemm.ts reads). */
  GEMM: {
    words: 16,
    fields: [
      ["X", "x [rows, inF]"],
      ["WP", "packed weights [outFp/8][inF][8]"],
      ["BIAS", "bias [outFp], zero-padded"],
      ["Y", "Yp [rowsP, outFp]"],
      ["ROWS", "rows of x"],
      ["IN_F", "input features"],
      ["OUT_FP", "output features padded to 8"],
      ["KC", "features per k-chunk"],
      ["ACT", "epilogue activation (assembly/act.ts: 0 none, 1 gelu, 2 tanh form, 3 relu)"],
      ["ACT_COLS", "columns [0, ACT_COLS) get the activation"],
    ],
  },
  /** One row-wise call: LayerNorm with the residual add (src/backends/wasm/norm.ts writes, assembly/norm.ts reads), split + RoPE (wasm/rope.ts, assembly/rope.ts), or a regrouping to or from heads (wasm/heads.ts, assembly/heads.ts: X = m [B·L, H·D], Q = t [B, H, L, D], ADD = valid u8 [B·L] or 0). */
  ROWS: {
    words: 16,
    fields: [
      ["X", "x [rows, n], normalised in place"],
      ["ADD", "add [rows, n] summed into x first (0 = none)"],
      ["GAMMA", "gamma [n]"],
      ["BETA", "beta [n]"],
      ["N", "features per row"],
      ["EPS", "LayerNorm epsilon", "f32"],
      ["KIND", "0 = LayerNorm (assembly/norm.ts), 1 = split + RoPE (assembly/rope.ts), 2 / 3 = to / from heads (assembly/heads.ts)"],
      ["Q", "split: q [B, H, L, D] (X is qkv [B·L, 3·H·D])"],
      ["K", "split: k [B, H, L, D]"],
      ["V", "split: v [B, H, L, D]"],
      ["COS", "split: cos [L, D/2]"],
      ["SIN", "split: sin [L, D/2]"],
      ["L", "split: tokens per sequence"],
      ["H", "split: heads"],
      ["D", "split: head size (even)"],
    ],
  },
  /** One row-wise work item. */
  ROWS_ITEM: {
    words: 4,
    fields: [
      ["DESC", "its ROWS descriptor"],
      ["ROW_BEGIN", "first row"],
      ["ROW_END", "row after the last"],
    ],
  },
  /** One GEMM work item. */
  GEMM_ITEM: {
    words: 4,
    fields: [
      ["DESC", "its GEMM descriptor"],
      ["ROW_BEGIN", "first row (a multiple of the block rows)"],
      ["ROW_END", "row after the last"],
      ["PANELS", "panelBegin | panelEnd << 16"],
    ],
  },
};

/** The worker pool's control words (Int32 indices at CTL_OFFSET; pool.ts and its worker source). */
export const CTL = {
  words: 16,
  fields: [
    ["GEN", "run generation the workers wake for"],
    ["TICKET", "(generation mod 2^11) << 21 | next item index"],
    ["COUNT", "items of the run"],
    ["DONE", "items done"],
    ["PART", "participants claimed this generation"],
    ["MAXPART", "workers allowed to join (threads − 1)"],
    ["ITEMS", "byte pointer of the item list"],
    ["SCRATCH", "byte pointer of thread 0's scratch"],
    ["STRIDE", "scratch bytes per thread"],
    ["ERROR", "1: a kernel trap in a worker; 2: a worker died"],
    ["READY", "workers started"],
    ["HOOK", "test hook: 1 = throw, 2 = hang, 3 = exit in the next item"],
    ["ENTRY", "which export runs the items (0 = runItem, 1 = gemmItem, 2 = rowsItem)"],
    ["BARRIER", "items from this index on start once every earlier one is done"],
  ],
};

/** Part-index values of an attention item that are not a part (ITEM.PART). */
export const ITEM_KINDS = [
  ["ITEM_WHOLE_HEAD", -1, "every part of the head, in order"],
  ["ITEM_ROW_BLOCK", -2, "every part, in order, over a row block (QT_BEGIN points at the ranges)"],
  ["ITEM_MERGE", -3, "merge the records of rows [QT_BEGIN, QT_END)"],
  ["ITEM_STORE", -16, "-16 - p: part p's tiles to its records"],
];

/** The memory's fixed regions (bytes). */
export const MEMORY = [
  ["PAGE", 65536, "bytes per WebAssembly page"],
  ["MAX_PAGES", 65536, "pages of 32-bit WebAssembly memory (4 GiB)"],
  ["MAX_BYTES", 65536 * 65536, "4 GiB"],
  ["CTL_OFFSET", 65536, "the pool's control words, after the module's data segments (< 8 KiB)"],
  ["DATA_START", 65536 + 4096, "first byte of the data region (packed weights, plan arena, calls)"],
];

function check() {
  for (const [name, s] of Object.entries(STRUCTS)) {
    if (s.fields.length > s.words) throw new Error(`${name}: ${s.fields.length} fields in ${s.words} words`);
  }
  if (CTL.fields.length > CTL.words) throw new Error("CTL: too many words");
  // the pool steps through either kind of item with one stride
  if (STRUCTS.ITEM.words !== STRUCTS.GEMM_ITEM.words) throw new Error("ITEM and GEMM_ITEM differ in size");
  if (STRUCTS.ITEM.words !== STRUCTS.ROWS_ITEM.words) throw new Error("ITEM and ROWS_ITEM differ in size");
  const m = Object.fromEntries(MEMORY.map(([n, v]) => [n, v]));
  if (m.CTL_OFFSET + CTL.words * 4 > m.DATA_START) throw new Error("control words overlap the data region");
}

const head = (src) =>
  `// Generated by assembly/build.mjs from assembly/layout.mjs (${src}). Do not edit; run \`npm run build\`.\n`;

/** assembly/layout.ts: byte offsets (usize) and sizes for the AssemblyScript side. */
export function assemblyLayout() {
  check();
  let out = head("the kernel's view: byte offsets");
  for (const [name, s] of Object.entries(STRUCTS)) {
    out += `\n// ${name} descriptor: ${s.words} words\nexport const ${name}_BYTES: usize = ${s.words * 4};\n`;
    s.fields.forEach(([f, doc, type], i) => {
      out += `export const ${name}_${f}: usize = ${i * 4}; // ${type ?? "i32"}: ${doc}\n`;
    });
  }
  out += "\n// item kinds (ITEM_PART values that are not a part index)\n";
  for (const [n, v, doc] of ITEM_KINDS) out += `export const ${n}: i32 = ${v}; // ${doc}\n`;
  return out;
}

/** src/backends/wasm/layout.ts: word indices (for Int32Array views) and the fixed regions for the host. */
export function hostLayout() {
  check();
  let out = head("the host's view: word indices");
  for (const [name, s] of Object.entries(STRUCTS)) {
    out += `\n/** ${name} descriptor: ${s.words} words; field → word index (f32 fields: ${
      s.fields
        .filter((f) => f[2] === "f32")
        .map((f) => f[0])
        .join(", ") || "none"
    }). */\n`;
    out += `export const ${name}_WORDS = ${s.words};\nexport const ${name} = {\n`;
    s.fields.forEach(([f, doc], i) => {
      out += `  ${f}: ${i}, // ${doc}\n`;
    });
    out += "} as const;\n";
  }
  out += `\n/** The pool's control words: Int32 indices at CTL_OFFSET. */\nexport const CTL_WORDS = ${CTL.words};\nexport const CTL = {\n`;
  CTL.fields.forEach(([f, doc], i) => {
    out += `  ${f}: ${i}, // ${doc}\n`;
  });
  out += "} as const;\n\n/** Part-index values of an attention item that are not a part. */\n";
  for (const [n, v, doc] of ITEM_KINDS) out += `export const ${n} = ${v}; // ${doc}\n`;
  out += "\n/** The memory's fixed regions (bytes). */\n";
  for (const [n, v, doc] of MEMORY) out += `export const ${n} = ${v}; // ${doc}\n`;
  return out;
}
