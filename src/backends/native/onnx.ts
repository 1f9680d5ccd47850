/**
 * A minimal ONNX model writer (protobuf by hand: onnxruntime-node has no model builder, and the
 * models here are one or two nodes with their weights as initializers). Field numbers from
 * onnx/onnx.proto3: ModelProto{ir_version=1, graph=7, opset_import=8}; GraphProto{node=1,
 * name=2, initializer=5, input=11, output=12}; NodeProto{input=1, output=2, name=3, op_type=4,
 * attribute=5}; AttributeProto{name=1, i=3, type=20 (INT=2)}; TensorProto{dims=1,
 * data_type=2 (FLOAT=1), name=8, raw_data=9}; ValueInfoProto{name=1, type=2};
 * TypeProto{tensor_type=1}; Tensor{elem_type=1, shape=2}; TensorShapeProto{dim=1};
 * Dimension{dim_value=1, dim_param=2}; OperatorSetIdProto{domain=1, version=2}.
 */

/** Bytes of a protobuf message under construction: varints, length-delimited fields, raw floats. */
class Writer {
  private parts: Uint8Array[] = [];
  length = 0;
  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.length += b.length;
  }
  varint(n: number): void {
    const out: number[] = [];
    let v = n;
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
    this.push(Uint8Array.from(out));
  }
  int(field: number, n: number): void {
    this.varint(field * 8);
    this.varint(n);
  }
  bytes(field: number, b: Uint8Array): void {
    this.varint(field * 8 + 2);
    this.varint(b.length);
    this.push(b);
  }
  str(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }
  msg(field: number, w: Writer): void {
    this.bytes(field, w.finish());
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** A float32 initializer: name, dims, data (little-endian raw_data). */
export interface Initializer {
  name: string;
  dims: number[];
  data: Float32Array;
}

function tensorProto(t: Initializer): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  w.int(2, 1); // FLOAT
  w.str(8, t.name);
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)); // little-endian hosts only (checked by the op)
  return w;
}

function valueInfo(name: string, dims: (number | string)[]): Writer {
  const shape = new Writer();
  for (const d of dims) {
    const dim = new Writer();
    if (typeof d === "number") dim.int(1, d);
    else dim.str(2, d);
    shape.msg(1, dim);
  }
  const tensor = new Writer();
  tensor.int(1, 1); // FLOAT
  tensor.msg(2, shape);
  const type = new Writer();
  type.msg(1, tensor);
  const w = new Writer();
  w.str(1, name);
  w.msg(2, type);
  return w;
}

/**
 * nn.Linear as one Gemm node: y [rows, outF] = x [rows, inF] · Wᵀ + b, with W [outF, inF]
 * (transB = 1) and b as initializers; rows is symbolic, so one session serves every call.
 */
export function linearModel(W: Float32Array, outF: number, inF: number, bias: Float32Array): Uint8Array {
  const node = new Writer();
  for (const n of ["x", "W", "b"]) node.str(1, n);
  node.str(2, "y");
  node.str(3, "linear");
  node.str(4, "Gemm");
  const transB = new Writer();
  transB.str(1, "transB");
  transB.int(3, 1);
  transB.int(20, 2); // INT
  node.msg(5, transB);
  const graph = new Writer();
  graph.msg(1, node);
  graph.str(2, "linear");
  graph.msg(5, tensorProto({ name: "W", dims: [outF, inF], data: W }));
  graph.msg(5, tensorProto({ name: "b", dims: [outF], data: bias }));
  graph.msg(11, valueInfo("x", ["rows", inF]));
  graph.msg(12, valueInfo("y", ["rows", outF]));
  const opset = new Writer();
  opset.str(1, "");
  opset.int(2, 17);
  const model = new Writer();
  model.int(1, 8); // ir_version 8
  model.msg(8, opset);
  model.msg(7, graph);
  return model.finish();
}
