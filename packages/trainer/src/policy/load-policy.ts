import { basename } from 'node:path';
import { selectBackend, type BackendChoice, type BackendName } from '../backend/select-backend';
import type { CausalLM } from '../model/causal-lm';
import { loadModel } from '../model/load-model';
import { loadTokenizer, type TextTokenizer } from '../tokenizer/load-tokenizer';
import { createTokenPolicy, type DisposableTokenPolicy, type TokenPolicy } from './token-policy';

/** A loaded model folder: model, tokenizer and the backend it runs on. */
export interface LoadedPolicy {
  /** folder name unless given */
  modelId: string;
  /** the network */
  model: CausalLM;
  /** its tokenizer */
  tokenizer: TextTokenizer;
  /** backend chosen and why */
  backend: BackendChoice;
  /** the TokenPolicy view (@aipo/agents), sharing one batch scheduler */
  asTokenPolicy(): TokenPolicy;
  /** free the weights and the token policy's scheduler */
  dispose(): void;
}

export interface LoadPolicyOptions {
  /** Hugging Face model folder (config.json, safetensors, tokenizer.json) */
  modelDir: string;
  /** backend override (default auto) */
  backend?: BackendName | 'auto';
  /** id reported to clients (default: the folder name) */
  modelId?: string;
}

/** Select a backend, then load a model folder for sampling and serving. */
export async function loadPolicy({ modelDir, backend = 'auto', modelId = basename(modelDir) }: LoadPolicyOptions): Promise<LoadedPolicy> {
  const choice = await selectBackend({ backend });
  const tokenizer = await loadTokenizer(modelDir);
  const model = await loadModel(modelDir, { trainable: false });
  let tokenPolicy: DisposableTokenPolicy | undefined;
  return {
    modelId,
    model,
    tokenizer,
    backend: choice,
    asTokenPolicy: () => (tokenPolicy ??= createTokenPolicy({ model, tokenizer, modelId })),
    dispose: () => {
      tokenPolicy?.dispose();
      model.dispose();
    },
  };
}
