import type { ChatModel, ChatUsage } from './chat-model';

/** Price of one model in currency units per million tokens. */
export interface ModelPrice {
  /** cost per million prompt tokens */
  promptPerMillion: number;
  /** cost per million completion tokens */
  completionPerMillion: number;
}

/** Accumulated usage of one model. */
export interface UsageTotals {
  /** number of successful calls */
  calls: number;
  /** prompt tokens over all calls */
  promptTokens: number;
  /** completion tokens over all calls */
  completionTokens: number;
  /** cost from the price table (0 for unpriced models) */
  cost: number;
}

/** Token and cost accounting shared by any number of wrapped models. */
export interface UsageMeter {
  /** add one call's usage */
  record(modelId: string, usage: ChatUsage): void;
  /** totals per model id */
  byModel(): Record<string, UsageTotals>;
  /** totals over all models */
  total(): UsageTotals;
}

export function createUsageMeter(options: { prices?: Record<string, ModelPrice> } = {}): UsageMeter {
  const prices = options.prices ?? {};
  const totals = new Map<string, UsageTotals>();
  return {
    record(modelId, usage) {
      const entry = totals.get(modelId) ?? { calls: 0, promptTokens: 0, completionTokens: 0, cost: 0 };
      const price = prices[modelId];
      entry.calls += 1;
      entry.promptTokens += usage.promptTokens;
      entry.completionTokens += usage.completionTokens;
      if (price)
        entry.cost +=
          (usage.promptTokens * price.promptPerMillion + usage.completionTokens * price.completionPerMillion) / 1e6;
      totals.set(modelId, entry);
    },
    byModel: () => Object.fromEntries([...totals].map(([id, entry]) => [id, { ...entry }])),
    total() {
      const sum: UsageTotals = { calls: 0, promptTokens: 0, completionTokens: 0, cost: 0 };
      for (const entry of totals.values()) {
        sum.calls += entry.calls;
        sum.promptTokens += entry.promptTokens;
        sum.completionTokens += entry.completionTokens;
        sum.cost += entry.cost;
      }
      return sum;
    },
  };
}

/** Record every successful call of `model` in `meter`. */
export function withUsageAccounting(model: ChatModel, meter: UsageMeter): ChatModel {
  return {
    specificationVersion: 'v1',
    modelId: model.modelId,
    endpoint: model.endpoint,
    async generate(messages, options, signal) {
      const result = await model.generate(messages, options, signal);
      meter.record(model.modelId, result.usage);
      return result;
    },
  };
}
