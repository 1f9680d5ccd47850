/**
 * The local Hub of the tests as a standalone server, to try the CLI or a script by hand:
 *   npx vite-node test/hub-serve.ts        # prints the URL; Ctrl-C stops it
 *   HF_ENDPOINT=<url> npx sparse-attention encode --model test/longformer_tiny --text doc.txt
 * Serves test/longformer_tiny, test/bigbird_tiny, test/sharded_tiny, test/with_tokenizer, test/gpt2_tiny.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fixtureRepos, startHubServer } from "./hub-server.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "sa-hub-serve-"));
const hub = await startHubServer({ repos: fixtureRepos(tmp) });
console.log(hub.url);
const stop = async () => {
  console.error(`${hub.requests.length} requests:\n${hub.requests.map((r) => `  ${r.method} ${r.path}`).join("\n")}`);
  await hub.close();
  rmSync(tmp, { recursive: true, force: true });
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
