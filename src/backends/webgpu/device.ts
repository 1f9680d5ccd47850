/// <reference types="@webgpu/types" preserve="true" />
/**
 * Finding a GPUDevice: the caller's (`options.gpu`), else `navigator.gpu` (browsers, Deno),
 * else in Node the optional `webgpu` npm package (Dawn), imported dynamically. On Linux, when
 * VK_ICD_FILENAMES is unset and Chromium's SwiftShader Vulkan driver is installed
 * (/usr/lib/chromium/vk_swiftshader_icd.json, Debian's `chromium` package), the loader points
 * Dawn at it before creating the instance: Debian 12's own lavapipe is too old for Dawn, and
 * without a driver there is no adapter at all. Every failure is recorded as a reason string.
 */

export const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

export interface GpuContext {
  device: GPUDevice;
  /** Adapter description ("SwiftShader Device (Subzero) / Google" …), "caller's device" for options.gpu. */
  adapterName: string;
  /** A software rasteriser (SwiftShader, llvmpipe, lavapipe, WARP) or a fallback adapter. */
  software: boolean;
}

type ProcessLike = {
  env?: Record<string, string | undefined>;
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
};

function proc(): ProcessLike | undefined {
  return (globalThis as { process?: ProcessLike }).process;
}

function isNode(): boolean {
  return typeof proc()?.versions?.node === "string";
}

/** Sets VK_ICD_FILENAMES to Chromium's SwiftShader driver when unset and present (Linux, Node). */
export function useSwiftShaderWhereNoDriver(): void {
  const p = proc();
  if (p?.env === undefined || p.env.VK_ICD_FILENAMES !== undefined) return;
  const fs = p.getBuiltinModule?.("node:fs") as { existsSync(path: string): boolean } | undefined;
  if (fs?.existsSync(SWIFTSHADER_ICD)) p.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
}

/**
 * Dawn's Vulkan loader prints "error: XDG_RUNTIME_DIR is invalid or not set in the
 * environment" (twice) on hosts without a session (containers, CI, ssh) although the adapter
 * works. When the variable is unset or not a directory, point it at a private folder
 * ($TMPDIR/sparse-attention-xdg-<uid>, mode 0700) before Dawn loads; a valid one is left alone.
 */
export function useRuntimeDirWhereNone(): void {
  const p = proc();
  if (p?.env === undefined) return;
  const fs = p.getBuiltinModule?.("node:fs") as
    | {
        statSync(path: string, o: { throwIfNoEntry: false }): { isDirectory(): boolean } | undefined;
        mkdirSync(path: string, o: { recursive: true; mode: number }): void;
      }
    | undefined;
  const os = p.getBuiltinModule?.("node:os") as { tmpdir(): string; userInfo(): { uid: number } } | undefined;
  if (fs === undefined || os === undefined) return;
  const cur = p.env.XDG_RUNTIME_DIR;
  if (cur !== undefined && cur !== "" && fs.statSync(cur, { throwIfNoEntry: false })?.isDirectory()) return;
  try {
    const dir = `${os.tmpdir()}/sparse-attention-xdg-${os.userInfo().uid}`;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    p.env.XDG_RUNTIME_DIR = dir;
  } catch {
    // no writable temp folder: Dawn prints its message, WebGPU still works
  }
}

let nodeGpu: Promise<GPU | string> | null = null;

/** The webgpu package's GPU object in Node, or the reason there is none. */
function loadNodeGpu(): Promise<GPU | string> {
  nodeGpu ??= (async () => {
    useSwiftShaderWhereNoDriver();
    useRuntimeDirWhereNone();
    let mod: { create(flags: string[]): GPU; globals: Record<string, unknown> };
    try {
      const name = "webgpu"; // a variable: bundlers must not try to resolve the Node-only package
      mod = await import(/* @vite-ignore */ name);
    } catch (e) {
      return `the optional package "webgpu" (Dawn for Node) is not installed or does not load here (${(e as Error).message.split("\n")[0]}); npm install webgpu`;
    }
    // The kernel writes every workgroup variable before reading it, so Dawn's zero-initialisation
    // of workgroup memory is pure cost: on SwiftShader it made the compile 15x slower (14 s vs 0.9 s).
    return mod.create(["enable-dawn-features=disable_workgroup_init"]);
  })();
  return nodeGpu;
}

/** navigator.gpu, or in Node the webgpu package's GPU; a string says why there is none. */
export async function findGpu(): Promise<GPU | string> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (isNode()) return loadNodeGpu();
  return "this JavaScript environment has no WebGPU (navigator.gpu is undefined; Chrome >= 113, or a browser with WebGPU enabled)";
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|warp|software|microsoft basic render/i;

function describeAdapter(info: GPUAdapterInfo | undefined): { name: string; software: boolean } {
  if (info === undefined) return { name: "unknown adapter", software: false };
  const parts = [info.description, info.device, info.vendor, info.architecture].filter((x) => x && x.length > 0);
  const name = parts.length > 0 ? parts.join(" / ") : "unnamed adapter";
  const fallback = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return { name, software: fallback || SOFTWARE.test(name) };
}

let shared: Promise<GpuContext | string> | null = null;

/** The library's own device (created once, with the adapter's largest buffer limits), or why there is none. */
export function defaultGpu(): Promise<GpuContext | string> {
  shared ??= (async () => {
    const gpu = await findGpu();
    if (typeof gpu === "string") return gpu;
    const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
    if (adapter === null) {
      return isNode()
        ? `navigator.gpu.requestAdapter() found no adapter (no Vulkan/Metal/D3D12 driver; on Debian: apt-get install chromium libvulkan1, whose SwiftShader driver ${SWIFTSHADER_ICD} is used when VK_ICD_FILENAMES is unset)`
        : "navigator.gpu.requestAdapter() found no adapter (WebGPU is blocked or the GPU is unsupported)";
    }
    const L = adapter.limits;
    const device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: L.maxStorageBufferBindingSize,
        maxBufferSize: L.maxBufferSize,
        maxComputeWorkgroupStorageSize: L.maxComputeWorkgroupStorageSize,
      },
    });
    const d = describeAdapter(adapter.info);
    device.lost.then(() => {
      shared = null;
    });
    return { device, adapterName: d.name, software: d.software };
  })();
  return shared;
}

/** A context for the caller's GPUDevice (checked to look like one). */
export function callerGpu(device: GPUDevice): GpuContext {
  return { device, adapterName: "caller's GPUDevice", software: false };
}

export function looksLikeDevice(x: unknown): x is GPUDevice {
  const d = x as GPUDevice | null;
  return (
    typeof d === "object" &&
    d !== null &&
    typeof d.createBuffer === "function" &&
    typeof d.createComputePipeline === "function" &&
    typeof d.queue === "object" &&
    typeof d.limits === "object"
  );
}
