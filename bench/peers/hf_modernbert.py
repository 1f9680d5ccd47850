"""HF ModernBERT (transformers v4.48 code via ../shared/peers/hf-torch/modernbert, eager attention,
float32, eval, no grad, batch 1) timed on this CPU: one JSON line per length on stdout.
  ../shared/peers/hf-torch/run.sh bench/peers/hf_modernbert.py --layers 22 --lengths 1024 --threads 2 --runs 1
Random weights (HF's own init, torch seed 0) with ModernBERT-base shapes; the eager path builds the
dense n x n score matrix in every layer, local ones included (the window is an additive mask)."""
import argparse, ctypes, json, os, statistics, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--layers", type=int, default=22)
ap.add_argument("--lengths", default="1024")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--runs", type=int, default=1)
ap.add_argument("--vocab", type=int, default=1000)
a = ap.parse_args()
if os.environ.get("OMP_WAIT_POLICY") != "PASSIVE" or os.environ.get("OPENBLAS_NUM_THREADS") != str(a.threads):
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", OMP_NUM_THREADS=str(a.threads), OPENBLAS_NUM_THREADS=str(a.threads))
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "shared", "peers", "hf-torch", "modernbert"))
import torch  # noqa: E402
import hf_modernbert as MB  # noqa: E402

torch.set_num_threads(a.threads)
torch.set_grad_enabled(False)
try:
    ctypes.CDLL("libopenblas.so.0").openblas_set_num_threads(a.threads)
except OSError:
    pass
lengths = [int(x) for x in a.lengths.split(",")]
torch.manual_seed(0)
cfg = MB.ModernBertConfig(vocab_size=a.vocab, hidden_size=768, intermediate_size=1152, num_hidden_layers=a.layers,
                          num_attention_heads=12, local_attention=128, global_attn_every_n_layers=3,
                          max_position_embeddings=max(8192, max(lengths)), pad_token_id=a.vocab - 1,
                          bos_token_id=a.vocab - 2, eos_token_id=a.vocab - 3, cls_token_id=a.vocab - 2,
                          sep_token_id=a.vocab - 3, reference_compile=False, attn_implementation="eager")
cfg._attn_implementation = "eager"
m = MB.modeling_modernbert.ModernBertModel(cfg).eval()
# attention share: time HF's eager attention function (RoPE, masks, q k^T, softmax, P v; not Wqkv / Wo)
_att = {"s": 0.0}
_eager = MB.modeling_modernbert.MODERNBERT_ATTENTION_FUNCTION["eager"]
def _timed(*args, **kwargs):
    t0 = time.perf_counter(); r = _eager(*args, **kwargs); _att["s"] += time.perf_counter() - t0; return r
MB.modeling_modernbert.MODERNBERT_ATTENTION_FUNCTION["eager"] = _timed
assert m.config._attn_implementation == "eager"
warm = dict(input_ids=torch.randint(0, a.vocab - 5, (1, 64)), attention_mask=torch.ones(1, 64, dtype=torch.long))
m(**warm)
for n in lengths:
    g = torch.Generator().manual_seed(n)
    kw = dict(input_ids=torch.randint(0, a.vocab - 5, (1, n), generator=g), attention_mask=torch.ones(1, n, dtype=torch.long))
    ts = []
    att = []
    for _ in range(a.runs):
        _att["s"] = 0.0
        t0 = time.perf_counter(); m(**kw); ts.append(time.perf_counter() - t0)
        att.append(_att["s"])
    med = statistics.median(ts)
    print(json.dumps(dict(seq=n, layers=a.layers, threads=a.threads, totalMs=med * 1000, attentionMs=statistics.median(att) * 1000, runs_s=[round(t, 3) for t in ts],
                          loadavg=open("/proc/loadavg").read().split()[:3])), flush=True)
