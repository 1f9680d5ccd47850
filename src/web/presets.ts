/** The seed's figures as explorer presets: per figure id, [label, pattern expression, n] for each panel. */
export const PRESETS: Record<string, [string, string, number][]> = {
  "fig1-lsh": [["LSH", "lsh(buckets=4, hashes=1, chunkLength=4, seed=0)", 24]],
  "fig2-sparse-transformer": [
    ["(a) causal", "causal()", 64],
    ["(b) strided", "strided(stride=8)", 64],
    ["(c) fixed", "fixed(block=8, summary=2)", 64],
  ],
  "fig3-bigbird": [
    ["(c) global", "globalTokens([0, 1, 2, 3, 4, 5, 6, 7, 56, 57, 58, 59, 60, 61, 62, 63])", 64],
    ["(d) BigBird", "bigBird(blockSize=8, randomBlocks=2, seed=3)", 64],
  ],
  "fig4-longformer": [
    ["(a) dense", "dense()", 64],
    ["(b) sliding", "slidingWindow(left=4, right=4)", 64],
    ["(c) dilated", "dilatedWindow(left=4, right=4, dilation=2)", 64],
    ["(d) global + sliding", "longformer(window=4, global=[0, 1])", 64],
  ],
};
