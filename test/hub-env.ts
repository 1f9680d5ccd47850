/** The hub tests' environment: nothing of this machine's Hugging Face settings leaks in. */
import { vi } from "vitest";

/** Stubs the HF_* variables for one test: HF_HOME in `home`, nothing from this machine (token, cache, endpoint, offline, timeout). */
export function isolateHfEnvironment(home: string): void {
  vi.stubEnv("HF_HOME", home);
  const cleared = ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"];
  for (const name of [...cleared, "HF_ENDPOINT", "HF_HUB_OFFLINE", "HF_HUB_DOWNLOAD_TIMEOUT"]) vi.stubEnv(name, "");
}
