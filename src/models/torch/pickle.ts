/**
 * A restricted unpickler for PyTorch state dicts. It is a stack machine over the pickle
 * opcodes (protocols 0-5), but it executes nothing: a GLOBAL / STACK_GLOBAL may only name a
 * callable of the allow-list below (what torch writes for tensors), REDUCE may only call
 * those, BUILD only sets the state of an OrderedDict, and a persistent id must be a storage
 * tuple. Anything else is refused with a CheckpointError naming the global or the opcode.
 * Values: Python str → string, int → number (refused beyond 2⁵³), float → number,
 * bool/None → boolean/null, tuple/list → array, dict/OrderedDict → PyDict (a Map keyed by
 * strings and numbers), tensors → TorchTensorRef. The caller decides what the result means.
 */

import {
  ALLOWED_GLOBALS,
  call,
  isGlobal,
  PyDict,
  type PyGlobal,
  type PyValue,
  persistent,
  refuse,
  type TorchStorageRef,
  typeName,
} from "./globals.js";

export { PyDict, type PyValue, STORAGE_TYPES, type TorchStorageRef, type TorchTensorRef } from "./globals.js";

/** Limits against hostile pickles (a real state dict is far inside all of them). */
const MAX_STACK = 1_000_000;
const MAX_LONG_BYTES = 8;

const MARK = Symbol("mark");
type Slot = PyValue | typeof MARK;

/** Runs the pickle and returns its value (the state dict, for a checkpoint's data.pkl). */
export function unpickle(bytes: Uint8Array, label: string): PyValue {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const latin1 = new TextDecoder("latin1");
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  let pos = 0;
  const stack: Slot[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();
  const storages = new Map<string, TorchStorageRef>(); // one object per storage key, as torch.load

  const need = (n: number, what: string): number => {
    if (!(n >= 0) || pos + n > bytes.length) {
      refuse(label, `the pickle is truncated (${what} needs ${n} bytes at offset ${pos}, ${bytes.length - pos} left)`);
    }
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = () => bytes[need(1, "an opcode argument")];
  const u16 = () => dv.getUint16(need(2, "a 2-byte argument"), true);
  const u32 = () => dv.getUint32(need(4, "a 4-byte argument"), true);
  const i32 = () => dv.getInt32(need(4, "a 4-byte argument"), true);
  const u64 = () => {
    const v = dv.getBigUint64(need(8, "an 8-byte argument"), true);
    if (v > BigInt(bytes.length)) refuse(label, `a length of ${v} bytes is larger than the whole pickle`);
    return Number(v);
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) refuse(label, `the pickle is truncated (a text argument at offset ${pos} has no end of line)`);
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const text = (n: number): string => {
    const at = need(n, "a string");
    try {
      return utf8.decode(bytes.subarray(at, at + n));
    } catch {
      return refuse(label, `a string at offset ${at} is not UTF-8`);
    }
  };
  const push = (v: PyValue) => {
    if (stack.length >= MAX_STACK) refuse(label, `the stack grows past ${MAX_STACK} items`);
    stack.push(v);
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) refuse(label, `an opcode at offset ${pos - 1} pops an empty stack or a mark`);
    return v;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) refuse(label, `an opcode at offset ${pos - 1} needs a value on the stack`);
    return v;
  };
  const popMark = (): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) refuse(label, `an opcode at offset ${pos - 1} needs a MARK and there is none`);
    const items = stack.splice(m) as Slot[];
    items.shift(); // the mark itself
    if (items.some((x) => x === MARK)) refuse(label, "a mark inside marked items");
    return items as PyValue[];
  };
  const memoGet = (i: number): PyValue => {
    const v = memo.get(i);
    if (v === undefined) refuse(label, `memo slot ${i} is read before it is written`);
    return v;
  };
  const int = (v: bigint): number => {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
      refuse(label, `integer ${v} is beyond 2^53 (no tensor has such a size)`);
    }
    return Number(v);
  };
  const long = (n: number): number => {
    if (n > MAX_LONG_BYTES) refuse(label, `a ${n}-byte integer (LONG of more than ${MAX_LONG_BYTES} bytes)`);
    const at = need(n, "an integer");
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]);
    if (n > 0 && bytes[at + n - 1] & 0x80) v -= 1n << BigInt(8 * n); // two's complement
    return int(v);
  };
  const global = (module: string, name: string): PyGlobal => {
    const full = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.includes(full)) {
      refuse(
        label,
        `global ${full} is not allowed (a PyTorch state dict names only tensors, storages and OrderedDict; this file may run code when torch.load opens it)`,
      );
    }
    return { kind: "global", name: full };
  };
  const setItems = (d: PyValue, items: PyValue[]) => {
    if (!(d instanceof PyDict)) refuse(label, "SETITEM(S) on a value that is not a dict");
    if (items.length % 2 !== 0) refuse(label, "SETITEMS with an odd number of items");
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i];
      if (typeof k !== "string" && typeof k !== "number") refuse(label, `a dict key of type ${typeName(k)}`);
      d.set(k, items[i + 1]);
    }
  };

  for (;;) {
    const opAt = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) refuse(label, "pickle protocol above 5");
        break;
      case 0x95: // FRAME (protocol 4): an 8-byte length; frames are read through
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length !== 0)
          refuse(label, "STOP with a stack that does not hold exactly one value");
        return pop();
      case 0x28: // MARK
        if (stack.length >= MAX_STACK) refuse(label, `the stack grows past ${MAX_STACK} items`);
        marks.push(stack.length);
        stack.push(MARK);
        break;
      case 0x30: // POP
        if (stack[stack.length - 1] === MARK) popMark();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4a: // BININT
        push(i32());
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x8a: // LONG1
        push(long(u8()));
        break;
      case 0x8b: // LONG4
        push(long(u32()));
        break;
      case 0x49: {
        // INT (protocol 0): decimal text, "00"/"01" are False/True
        const s = line();
        if (s === "00" || s === "01") push(s === "01");
        else if (/^[+-]?\d{1,16}$/.test(s)) push(int(BigInt(s)));
        else refuse(label, `INT argument ${JSON.stringify(s.slice(0, 40))} is not a small decimal integer`);
        break;
      }
      case 0x4c: {
        // LONG (protocol 0): decimal text with an optional L
        const s = line().replace(/L$/, "");
        if (!/^[+-]?\d{1,16}$/.test(s))
          refuse(label, `LONG argument ${JSON.stringify(s.slice(0, 40))} is a huge or malformed integer`);
        push(int(BigInt(s)));
        break;
      }
      case 0x47: // BINFLOAT: big-endian float64
        push(dv.getFloat64(need(8, "a float"), false));
        break;
      case 0x46: {
        // FLOAT (protocol 0)
        const v = Number(line());
        if (Number.isNaN(v)) refuse(label, "FLOAT argument is not a number");
        push(v);
        break;
      }
      case 0x56: // UNICODE (protocol 0): raw-unicode-escape text
        push(rawUnicodeEscape(line()));
        break;
      case 0x58: // BINUNICODE
        push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        push(text(u64()));
        break;
      case 0x54: // BINSTRING (a Python 2 str)
        push(latin1.decode(bytes.subarray(need(i32(), "a string"), pos)));
        break;
      case 0x55: // SHORT_BINSTRING
        push(latin1.decode(bytes.subarray(need(u8(), "a string"), pos)));
        break;
      case 0x42: // BINBYTES
        push(bytes.slice(need(u32(), "bytes"), pos));
        break;
      case 0x43: // SHORT_BINBYTES
        push(bytes.slice(need(u8(), "bytes"), pos));
        break;
      case 0x8e: // BINBYTES8
        push(bytes.slice(need(u64(), "bytes"), pos));
        break;
      case 0x7d: // EMPTY_DICT
        push(new PyDict());
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        push([]);
        break;
      case 0x74: // TUPLE
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x85: // TUPLE1
        push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        push([pop(), b, c]);
        break;
      }
      case 0x64: {
        // DICT
        const d = new PyDict();
        setItems(d, popMark());
        push(d);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        const list = top();
        if (!Array.isArray(list)) refuse(label, "APPEND to a value that is not a list");
        list.push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) refuse(label, "APPENDS to a value that is not a list");
        for (const v of items) list.push(v);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x70: {
        // PUT
        const s = line();
        if (!/^\d{1,10}$/.test(s)) refuse(label, "PUT with a malformed index");
        memo.set(Number(s), top());
        break;
      }
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        push(memoGet(u32()));
        break;
      case 0x67: {
        // GET
        const s = line();
        if (!/^\d{1,10}$/.test(s)) refuse(label, "GET with a malformed index");
        push(memoGet(Number(s)));
        break;
      }
      case 0x63: {
        // GLOBAL: "module\nname\n"
        const module = line();
        push(global(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string")
          refuse(label, "STACK_GLOBAL on values that are not strings");
        push(global(module, name));
        break;
      }
      case 0x52: {
        // REDUCE: callable(*args), only for allow-listed callables
        const args = pop();
        const fn = pop();
        if (!isGlobal(fn)) refuse(label, `REDUCE on ${typeName(fn)}, not an allowed global`);
        if (!Array.isArray(args)) refuse(label, `REDUCE of ${fn.name} with arguments that are not a tuple`);
        push(call(fn.name, args, label));
        break;
      }
      case 0x62: {
        // BUILD: only an OrderedDict's state (torch's state_dict()._metadata); kept out of the items
        const state = pop();
        const obj = top();
        if (!(obj instanceof PyDict))
          refuse(label, `BUILD on ${typeName(obj)} (only an OrderedDict's state is accepted)`);
        if (!(state instanceof PyDict) && state !== null && !Array.isArray(state)) {
          refuse(label, `BUILD with a state of type ${typeName(state)}`);
        }
        break;
      }
      case 0x51: {
        // BINPERSID
        const s = persistent(pop(), label);
        const seen = storages.get(s.key);
        if (seen !== undefined && (seen.dtype !== s.dtype || seen.numel !== s.numel)) {
          refuse(label, `storage ${s.key} appears as ${seen.dtype} × ${seen.numel} and as ${s.dtype} × ${s.numel}`);
        }
        if (seen === undefined) storages.set(s.key, s);
        push(seen ?? s);
        break;
      }
      case 0x50: // PERSID (protocol 0 text id): torch never writes it
        refuse(label, "PERSID (a text persistent id): torch writes storages with BINPERSID");
        break;
      default: {
        const name = OPCODE_NAMES[op];
        refuse(
          label,
          name === undefined
            ? `unknown opcode 0x${op.toString(16).padStart(2, "0")} at offset ${opAt}`
            : `opcode ${name} at offset ${opAt} is not allowed (it builds or calls arbitrary objects)`,
        );
      }
    }
  }
}

/** Opcodes we refuse, by name, for the error message. */
const OPCODE_NAMES: Record<number, string> = {
  105: "INST",
  111: "OBJ",
  129: "NEWOBJ",
  146: "NEWOBJ_EX",
  130: "EXT1",
  131: "EXT2",
  132: "EXT4",
  83: "STRING",
  86: "UNICODE",
  143: "EMPTY_SET",
  144: "ADDITEMS",
  145: "FROZENSET",
  150: "BYTEARRAY8",
  151: "NEXT_BUFFER",
  152: "READONLY_BUFFER",
};

/** Python's raw-unicode-escape: latin-1 text where \uXXXX and \UXXXXXXXX stand for code points. */
function rawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u: string | undefined, U: string | undefined) => {
    const cp = Number.parseInt(u ?? U ?? "0", 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : "\uFFFD";
  });
}
