// The model of ../shared/reference/tfjs-perf.md (d=128, 4 layers, 4 heads, FFN 384, vocab 512, tied
// head), shared by the train and sampling benchmarks so both measure the same network.
export const PERF_MODEL_CONFIG = {
  model_type: 'llama',
  vocab_size: 512,
  hidden_size: 128,
  intermediate_size: 384,
  num_hidden_layers: 4,
  num_attention_heads: 4,
  num_key_value_heads: 4,
  max_position_embeddings: 256,
  tie_word_embeddings: true,
} as const;
