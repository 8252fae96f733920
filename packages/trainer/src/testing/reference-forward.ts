// An independent, deliberately plain implementation of the same math (nested loops over
// Float64Array, HF [out, in] weights as stored in the checkpoint, no tfjs), used only by tests to
// check the tfjs model's logits and log-probs.
import type { ModelConfig } from '../model/model-config';
import type { NamedTensor } from '../model/safetensors';

type Weights = Map<string, NamedTensor>;

function w(weights: Weights, name: string): Float64Array {
  const t = weights.get(name);
  if (t === undefined) throw new Error(`missing ${name}`);
  return Float64Array.from(t.data);
}

/** y[o] = Σ_i W[o,i]·x[i] (+ b[o]) for nn.Linear (W is [out, in]). */
function linearOutIn(x: Float64Array, W: Float64Array, outSize: number, bias?: Float64Array): Float64Array {
  const inSize = x.length;
  const y = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) {
    let s = bias ? bias[o]! : 0;
    for (let i = 0; i < inSize; i++) s += W[o * inSize + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

/** y[o] = Σ_i W[i,o]·x[i] + b[o] for GPT-2 Conv1D (W is [in, out]). */
function conv1d(x: Float64Array, W: Float64Array, outSize: number, bias: Float64Array): Float64Array {
  const y = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) {
    let s = bias[o]!;
    for (let i = 0; i < x.length; i++) s += W[i * outSize + o]! * x[i]!;
    y[o] = s;
  }
  return y;
}

function rms(x: Float64Array, g: Float64Array, eps: number): Float64Array {
  let ms = 0;
  for (const v of x) ms += v * v;
  const r = 1 / Math.sqrt(ms / x.length + eps);
  return x.map((v, i) => v * r * g[i]!);
}

function ln(x: Float64Array, g: Float64Array, b: Float64Array, eps: number): Float64Array {
  let mean = 0;
  for (const v of x) mean += v;
  mean /= x.length;
  let variance = 0;
  for (const v of x) variance += (v - mean) ** 2;
  variance /= x.length;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * g[i]! + b[i]!);
}

function rope(vec: Float64Array, position: number, headDim: number, theta: number): Float64Array {
  const half = headDim / 2;
  const out = new Float64Array(headDim);
  for (let i = 0; i < half; i++) {
    const angle = position * theta ** ((-2 * i) / headDim);
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    out[i] = vec[i]! * c - vec[i + half]! * s;
    out[i + half] = vec[i + half]! * c + vec[i]! * s;
  }
  return out;
}

/** logits [L, V] for one token sequence. */
export function referenceLogits(config: ModelConfig, weights: Weights, tokens: number[]): Float64Array[] {
  const c = config;
  const d = c.hiddenSize;
  const L = tokens.length;
  const hd = c.headDim;
  const llama = c.family === 'llama';
  const embed = w(weights, llama ? 'model.embed_tokens.weight' : 'transformer.wte.weight');
  let xs: Float64Array[] = tokens.map((token, position) => {
    const x = embed.slice(token * d, (token + 1) * d);
    if (!llama) {
      const wpe = w(weights, 'transformer.wpe.weight');
      for (let i = 0; i < d; i++) x[i]! += wpe[position * d + i]!;
    }
    return x;
  });
  for (let layer = 0; layer < c.numLayers; layer++) {
    const qs: Float64Array[][] = [];
    const ks: Float64Array[][] = [];
    const vs: Float64Array[][] = [];
    const p = llama ? `model.layers.${layer}` : `transformer.h.${layer}`;
    for (let t = 0; t < L; t++) {
      let q: Float64Array;
      let k: Float64Array;
      let v: Float64Array;
      if (llama) {
        const h = rms(xs[t]!, w(weights, `${p}.input_layernorm.weight`), c.normEps);
        const bias = (n: string) => (c.attentionBias ? w(weights, `${p}.self_attn.${n}.bias`) : undefined);
        q = linearOutIn(h, w(weights, `${p}.self_attn.q_proj.weight`), c.numHeads * hd, bias('q_proj'));
        k = linearOutIn(h, w(weights, `${p}.self_attn.k_proj.weight`), c.numKvHeads * hd, bias('k_proj'));
        v = linearOutIn(h, w(weights, `${p}.self_attn.v_proj.weight`), c.numKvHeads * hd, bias('v_proj'));
      } else {
        const h = ln(xs[t]!, w(weights, `${p}.ln_1.weight`), w(weights, `${p}.ln_1.bias`), c.normEps);
        const qkv = conv1d(h, w(weights, `${p}.attn.c_attn.weight`), 3 * d, w(weights, `${p}.attn.c_attn.bias`));
        q = qkv.slice(0, d);
        k = qkv.slice(d, 2 * d);
        v = qkv.slice(2 * d);
      }
      const heads = (vec: Float64Array, n: number, rotate: boolean) =>
        Array.from({ length: n }, (_, head) => {
          const part = vec.slice(head * hd, (head + 1) * hd);
          return rotate ? rope(part, t, hd, c.ropeTheta) : part;
        });
      qs.push(heads(q, c.numHeads, llama));
      ks.push(heads(k, c.numKvHeads, llama));
      vs.push(heads(v, c.numKvHeads, false));
    }
    const next: Float64Array[] = [];
    for (let t = 0; t < L; t++) {
      const attended = new Float64Array(c.numHeads * hd);
      for (let head = 0; head < c.numHeads; head++) {
        const kvHead = Math.floor(head / (c.numHeads / c.numKvHeads));
        const scores: number[] = [];
        for (let s = 0; s <= t; s++) {
          let dot = 0;
          for (let i = 0; i < hd; i++) dot += qs[t]![head]![i]! * ks[s]![kvHead]![i]!;
          scores.push(dot / Math.sqrt(hd));
        }
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((a, b) => a + b, 0);
        for (let s = 0; s <= t; s++) for (let i = 0; i < hd; i++) attended[head * hd + i]! += (exps[s]! / total) * vs[s]![kvHead]![i]!;
      }
      const x = xs[t]!;
      if (llama) {
        const o = linearOutIn(attended, w(weights, `${p}.self_attn.o_proj.weight`), d);
        const x1 = x.map((v, i) => v + o[i]!);
        const h2 = rms(x1, w(weights, `${p}.post_attention_layernorm.weight`), c.normEps);
        const gate = linearOutIn(h2, w(weights, `${p}.mlp.gate_proj.weight`), c.intermediateSize);
        const up = linearOutIn(h2, w(weights, `${p}.mlp.up_proj.weight`), c.intermediateSize);
        const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]!);
        const down = linearOutIn(act, w(weights, `${p}.mlp.down_proj.weight`), d);
        next.push(x1.map((v, i) => v + down[i]!));
      } else {
        const o = conv1d(attended, w(weights, `${p}.attn.c_proj.weight`), d, w(weights, `${p}.attn.c_proj.bias`));
        const x1 = x.map((v, i) => v + o[i]!);
        const h2 = ln(x1, w(weights, `${p}.ln_2.weight`), w(weights, `${p}.ln_2.bias`), c.normEps);
        const fc = conv1d(h2, w(weights, `${p}.mlp.c_fc.weight`), c.intermediateSize, w(weights, `${p}.mlp.c_fc.bias`));
        const act = fc.map((u) => 0.5 * u * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u ** 3))));
        const proj = conv1d(act, w(weights, `${p}.mlp.c_proj.weight`), d, w(weights, `${p}.mlp.c_proj.bias`));
        next.push(x1.map((v, i) => v + proj[i]!));
      }
    }
    xs = next;
  }
  const head = c.tieWordEmbeddings ? embed : w(weights, 'lm_head.weight');
  return xs.map((x) => {
    const h = llama ? rms(x, w(weights, 'model.norm.weight'), c.normEps) : ln(x, w(weights, 'transformer.ln_f.weight'), w(weights, 'transformer.ln_f.bias'), c.normEps);
    return linearOutIn(h, head, c.vocabSize);
  });
}

/** log softmax of one logit row. */
export function referenceLogSoftmax(logits: Float64Array): Float64Array {
  const max = Math.max(...logits);
  let total = 0;
  for (const v of logits) total += Math.exp(v - max);
  const lse = max + Math.log(total);
  return logits.map((v) => v - lse);
}
