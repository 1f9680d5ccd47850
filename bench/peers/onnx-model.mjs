// A tiny hand-written protobuf encoder for one-node ONNX models (onnxruntime-node has no
// model builder; the model is a handful of fields, so a dependency would be heavier than this).
// Field numbers from onnx/onnx.proto3: ModelProto{ir_version=1, opset_import=8, graph=7},
// GraphProto{node=1, name=2, input=11, output=12}, NodeProto{input=1, output=2, name=3,
// op_type=4, attribute=5, domain=7}, AttributeProto{name=1, f=2, i=3, type=20 (FLOAT=1, INT=2)},
// ValueInfoProto{name=1, type=2}, TypeProto{tensor_type=1}, Tensor{elem_type=1, shape=2},
// TensorShapeProto{dim=1}, Dimension{dim_value=1, dim_param=2}, OperatorSetIdProto{domain=1, version=2}.

function varint(n) {
  const out = [];
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  while (v >= 0x80n) {
    out.push(Number((v & 0x7fn) | 0x80n));
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
const key = (field, wire) => varint((field << 3) | wire);
const int = (field, n) => [...key(field, 0), ...varint(n)];
const bytes = (field, b) => [...key(field, 2), ...varint(b.length), ...b];
const str = (field, s) => bytes(field, [...new TextEncoder().encode(s)]);
const msg = (field, parts) => bytes(field, parts.flat());
function f32(field, x) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, x, true);
  return [...key(field, 5), ...b];
}

/** elemType: 1 = float32, 6 = int32. dims: numbers or names (symbolic). */
function valueInfo(field, name, elemType, dims) {
  const dimMsgs = dims.map((d) => msg(1, [typeof d === "number" ? int(1, d) : str(2, d)]));
  return msg(field, [str(1, name), msg(2, [msg(1, [int(1, elemType), msg(2, dimMsgs)])])]);
}

function attribute(name, value) {
  return Number.isInteger(value.i)
    ? msg(5, [str(1, name), int(3, value.i), int(20, 2)])
    : msg(5, [str(1, name), f32(2, value.f), int(20, 1)]);
}

/**
 * One-node model. inputs/outputs: [{ name, type: 1 | 6, dims }]; node inputs may be "" for
 * skipped optional inputs. attrs: { name: { i } | { f } }.
 */
export function oneNodeModel({ opType, domain, inputs, nodeInputs, outputs, attrs }) {
  const node = msg(1, [
    ...(nodeInputs ?? inputs.map((x) => x.name)).map((n) => str(1, n)),
    ...outputs.map((o) => str(2, o.name)),
    str(3, "n0"),
    str(4, opType),
    ...Object.entries(attrs).map(([n, v]) => attribute(n, v)),
    str(7, domain),
  ]);
  const graph = msg(7, [
    node,
    str(2, "g"),
    ...inputs.map((x) => valueInfo(11, x.name, x.type, x.dims)),
    ...outputs.map((x) => valueInfo(12, x.name, x.type, x.dims)),
  ]);
  const model = [
    ...int(1, 8), // ir_version 8
    ...msg(8, [str(1, ""), int(2, 17)]),
    ...msg(8, [str(1, "com.microsoft"), int(2, 1)]),
    ...graph,
  ];
  return Uint8Array.from(model);
}
