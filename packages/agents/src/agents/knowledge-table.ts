import type { Agent } from '../aipo/agent';

/**
 * A programmatic Knowledge Agent: answers from a fixed table. The longest table key contained in
 * the request (case- and space-insensitive) wins, so "what is the area of a circle?" finds
 * "area of a circle".
 */
export function createKnowledgeTable(options: {
  entries: Record<string, string>;
  name?: string;
  unknownReply?: string;
}): Agent {
  const table = Object.entries(options.entries)
    .map(([key, value]) => [normalise(key), value] as const)
    .filter(([key]) => key.length > 0)
    .sort((left, right) => right[0].length - left[0].length);
  return {
    name: options.name ?? 'knowledge',
    description: 'states a fact from its table',
    async consult({ query }) {
      const request = normalise(query);
      const hit = table.find(([key]) => request.includes(key));
      const text = hit?.[1] ?? options.unknownReply ?? 'no entry for this request';
      return { text, fullText: text };
    },
  };
}

function normalise(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}
