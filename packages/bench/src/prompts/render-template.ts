import { AipoError } from '@aipo/core';
import type { ChatMessage, PromptTemplate } from '../benchmark';

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Fill `{name}` placeholders from the item's variables. Braces that do not name a variable stay
 * as they are, so LaTeX such as `\boxed{}` or `\frac{a}{b}` in a template survives untouched.
 */
export function fillTemplate({ template, variables }: { template: string; variables: Record<string, string> }): string {
  return template.replace(PLACEHOLDER, (match, name: string) => (Object.hasOwn(variables, name) ? (variables[name] ?? '') : match));
}

/** Turn a template and an item's variables into chat messages. */
export function renderPrompt({ template, variables }: { template: PromptTemplate; variables: Record<string, string> }): ChatMessage[] {
  if (typeof template.user !== 'string' || template.user.length === 0) {
    throw new AipoError({ code: 'INVALID_CONFIG', message: 'a prompt template needs a non-empty "user" string' });
  }
  const messages: ChatMessage[] = [];
  if (template.system !== undefined && template.system !== '') {
    messages.push({ role: 'system', content: fillTemplate({ template: template.system, variables }) });
  }
  messages.push({ role: 'user', content: fillTemplate({ template: template.user, variables }) });
  return messages;
}
