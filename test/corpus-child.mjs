// A corpus job with a stand-in batch function (deterministic results, a pause per batch so that a
// kill lands mid-run), for test/corpus.test.ts. Args: input output batchSize pauseMs
import { runCorpusJob, summaryLine } from "../dist/cli/corpus.js";

const [input, output, batchSize, pauseMs] = process.argv.slice(2);
const signal = { stop: false };
process.once("SIGINT", () => {
  signal.stop = true;
});
const summary = await runCorpusJob({
  input,
  output,
  batch: { batchSize: Number(batchSize), window: Number(batchSize) * 4 },
  progress: false,
  signal,
  makeDoc: (obj, id, lineNo, where) => {
    if (typeof obj.text !== "string") throw new Error(`${where}: no text`);
    return { id, index: lineNo - 1, input: obj.text, length: obj.text.length };
  },
  process: async (batch) => {
    await new Promise((r) => setTimeout(r, Number(pauseMs)));
    return batch.map((d) => {
      let h = 0;
      for (let i = 0; i < d.input.length; i++) h = (h * 31 + d.input.charCodeAt(i)) >>> 0;
      return { hash: h, length: d.input.length, head: d.input.slice(0, 12).toUpperCase() };
    });
  },
});
process.stderr.write(`${summaryLine(summary, output)}\n`);
process.exitCode = summary.interrupted ? 130 : 0;
