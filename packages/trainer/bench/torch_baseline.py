# PyTorch CPU baseline for bench/train.bench.ts: the same Llama-style model (RMSNorm, rotate-half
# RoPE, causal MHA, SwiGLU, tied head; d=128, 4 layers, 4 heads, FFN 384, vocab 512) and workload
# (B=16 x T=128 policy-gradient step with Adam; a no-grad log-prob pass; 16 x 64 KV-cache sampling).
# Prints one JSON line. Not part of the package: a measurement baseline only (tfjs-perf.md §6).
import json, math, sys, time
import torch
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_num_threads(1)
V, D, L, H, FFN, B, P, N = 512, 128, 4, 4, 384, 16, 64, 64
HD = D // H

def param(*shape, std=0.05):
    return torch.nn.Parameter(torch.randn(*shape) * std)

class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = param(V, D)
        self.layers = torch.nn.ModuleList()
        for _ in range(L):
            layer = torch.nn.Module()
            layer.n1 = torch.nn.Parameter(torch.ones(D)); layer.n2 = torch.nn.Parameter(torch.ones(D))
            layer.q, layer.k, layer.v, layer.o = param(D, D), param(D, D), param(D, D), param(D, D)
            layer.g, layer.u, layer.d = param(D, FFN), param(D, FFN), param(FFN, D)
            self.layers.append(layer)
        self.norm = torch.nn.Parameter(torch.ones(D))
        inv = 10000 ** (-torch.arange(0, HD, 2).float() / HD)
        ang = torch.arange(256).float()[:, None] * inv[None, :]
        emb = torch.cat([ang, ang], -1)
        self.cos, self.sin = emb.cos(), emb.sin()

    @staticmethod
    def rms(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * w

    def rope(self, x, pos):
        c, s = self.cos[pos][None, None], self.sin[pos][None, None]
        x1, x2 = x[..., : HD // 2], x[..., HD // 2 :]
        return x * c + torch.cat([-x2, x1], -1) * s

    def forward(self, tokens, start=0, cache=None):
        b, t = tokens.shape
        pos = torch.arange(start, start + t)
        x = self.embed[tokens]
        new_cache = []
        for i, layer in enumerate(self.layers):
            h = self.rms(x, layer.n1)
            q = self.rope((h @ layer.q).view(b, t, H, HD).transpose(1, 2), pos)
            k = self.rope((h @ layer.k).view(b, t, H, HD).transpose(1, 2), pos)
            v = (h @ layer.v).view(b, t, H, HD).transpose(1, 2)
            if cache is not None:
                k = torch.cat([cache[i][0], k], 2); v = torch.cat([cache[i][1], v], 2)
            new_cache.append((k, v))
            s = k.shape[2]
            att = (q @ k.transpose(-1, -2)) / math.sqrt(HD)
            mask = torch.ones(t, s, dtype=torch.bool).tril(s - t)
            att = att.masked_fill(~mask, -1e9).softmax(-1)
            x = x + (att @ v).transpose(1, 2).reshape(b, t, D) @ layer.o
            h2 = self.rms(x, layer.n2)
            x = x + (F.silu(h2 @ layer.g) * (h2 @ layer.u)) @ layer.d
        return self.rms(x, self.norm) @ self.embed.t(), new_cache

model = Model()
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
seq = torch.randint(0, V, (B, P + N + 1))
inputs, targets = seq[:, :-1], seq[:, 1:]
adv = torch.tensor([1.0 if i % 2 == 0 else -1.0 for i in range(B)])
mask = torch.zeros(B, P + N); mask[:, P:] = 1

def train_step():
    logits, _ = model(inputs)
    logp = F.log_softmax(logits, -1).gather(-1, targets[..., None])[..., 0]
    weights = (-adv[:, None] * mask / mask.sum()).detach()
    loss = (weights * logp).sum()
    opt.zero_grad(); loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()

def forward_pass():
    with torch.no_grad():
        logits, _ = model(inputs)
        F.log_softmax(logits, -1).gather(-1, targets[..., None])

def sample():
    with torch.no_grad():
        logits, cache = model(seq[:, :P])
        last = logits[:, -1]
        for step in range(N):
            token = torch.multinomial(last.softmax(-1), 1)
            logits, cache = model(token, P + step, cache)
            last = logits[:, -1]

def median_ms(fn, runs):
    # wall time and process CPU time (the latter is robust to other jobs sharing the cores)
    fn()
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - start) * 1000); cpu.append((time.process_time() - start_cpu) * 1000)
    return sorted(times)[len(times) // 2], sorted(cpu)[len(cpu) // 2], min(cpu)

train_runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
train, train_cpu, train_min_cpu = median_ms(train_step, train_runs)
fwd, fwd_cpu, _ = median_ms(forward_pass, train_runs)
samp, samp_cpu, _ = median_ms(sample, 5)
print(json.dumps({
    "trainStepMs": round(train), "trainStepCpuMs": round(train_cpu), "trainStepMinCpuMs": round(train_min_cpu),
    "forwardLogProbMs": round(fwd), "forwardLogProbCpuMs": round(fwd_cpu),
    "sampleKvTokensPerSecond": round(B * N / (samp / 1000)), "sampleKvTokensPerCpuSecond": round(B * N / (samp_cpu / 1000)),
    "torch": torch.__version__,
}))
