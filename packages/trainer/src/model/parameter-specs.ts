import type { ModelConfig } from './model-config';

/** One weight as Hugging Face stores it, and whether we keep it transposed. */
export interface ParameterSpec {
  /** HF state-dict name */
  name: string;
  /** shape in the HF checkpoint */
  hfShape: number[];
  /**
   * Linear weights are stored `[in, out]` inside the model (HF nn.Linear is `[out, in]`), so the
   * forward matmul needs no transpose: the XNNPACK operator is reused and decode runs about 2x faster
   * (tfjs-perf.md Q1, patch 3). GPT-2's Conv1D is already `[in, out]`.
   */
  transpose: boolean;
  /** init kind for random models */
  init: 'normal' | 'ones' | 'zeros';
  /** AdamW decays it (matrices yes; norms and biases no, as in nanoGPT's configure_optimizers) */
  decay: boolean;
}

/** Every parameter of the architecture, in HF naming and save order. */
export function parameterSpecs(config: ModelConfig): ParameterSpec[] {
  return config.family === 'gpt2' ? gpt2Specs(config) : llamaSpecs(config);
}

function llamaSpecs(c: ModelConfig): ParameterSpec[] {
  const d = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const specs: ParameterSpec[] = [matrix('model.embed_tokens.weight', [c.vocabSize, d], false)];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}`;
    specs.push(vector(`${p}.input_layernorm.weight`, d, 'ones'));
    specs.push(matrix(`${p}.self_attn.q_proj.weight`, [q, d], true));
    if (c.attentionBias) specs.push(vector(`${p}.self_attn.q_proj.bias`, q, 'zeros'));
    specs.push(matrix(`${p}.self_attn.k_proj.weight`, [kv, d], true));
    if (c.attentionBias) specs.push(vector(`${p}.self_attn.k_proj.bias`, kv, 'zeros'));
    specs.push(matrix(`${p}.self_attn.v_proj.weight`, [kv, d], true));
    if (c.attentionBias) specs.push(vector(`${p}.self_attn.v_proj.bias`, kv, 'zeros'));
    specs.push(matrix(`${p}.self_attn.o_proj.weight`, [d, q], true));
    specs.push(vector(`${p}.post_attention_layernorm.weight`, d, 'ones'));
    specs.push(matrix(`${p}.mlp.gate_proj.weight`, [c.intermediateSize, d], true));
    specs.push(matrix(`${p}.mlp.up_proj.weight`, [c.intermediateSize, d], true));
    specs.push(matrix(`${p}.mlp.down_proj.weight`, [d, c.intermediateSize], true));
  }
  specs.push(vector('model.norm.weight', d, 'ones'));
  if (!c.tieWordEmbeddings) specs.push(matrix('lm_head.weight', [c.vocabSize, d], true));
  return specs;
}

function gpt2Specs(c: ModelConfig): ParameterSpec[] {
  const d = c.hiddenSize;
  const f = c.intermediateSize;
  const specs: ParameterSpec[] = [
    matrix('transformer.wte.weight', [c.vocabSize, d], false),
    matrix('transformer.wpe.weight', [c.maxPositions, d], false),
  ];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `transformer.h.${i}`;
    specs.push(vector(`${p}.ln_1.weight`, d, 'ones'), vector(`${p}.ln_1.bias`, d, 'zeros'));
    specs.push(matrix(`${p}.attn.c_attn.weight`, [d, 3 * d], false), vector(`${p}.attn.c_attn.bias`, 3 * d, 'zeros'));
    specs.push(matrix(`${p}.attn.c_proj.weight`, [d, d], false), vector(`${p}.attn.c_proj.bias`, d, 'zeros'));
    specs.push(vector(`${p}.ln_2.weight`, d, 'ones'), vector(`${p}.ln_2.bias`, d, 'zeros'));
    specs.push(matrix(`${p}.mlp.c_fc.weight`, [d, f], false), vector(`${p}.mlp.c_fc.bias`, f, 'zeros'));
    specs.push(matrix(`${p}.mlp.c_proj.weight`, [f, d], false), vector(`${p}.mlp.c_proj.bias`, d, 'zeros'));
  }
  specs.push(vector('transformer.ln_f.weight', d, 'ones'), vector('transformer.ln_f.bias', d, 'zeros'));
  if (!c.tieWordEmbeddings) specs.push(matrix('lm_head.weight', [c.vocabSize, d], true));
  return specs;
}

function matrix(name: string, hfShape: number[], transpose: boolean): ParameterSpec {
  return { name, hfShape, transpose, init: 'normal', decay: true };
}

function vector(name: string, size: number, init: 'ones' | 'zeros'): ParameterSpec {
  return { name, hfShape: [size], transpose: false, init, decay: false };
}

/** Transpose a row-major `[rows, cols]` matrix. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  }
  return out;
}
