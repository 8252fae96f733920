import { describe, expect, it } from 'vitest';
import { applyChatTemplate } from './apply-chat-template';
import { mathTemplate, stripMathSuffix } from './math-template';
import { fillTemplate, renderPrompt } from './render-template';

describe('prompt templates', () => {
  it('fills named placeholders and leaves LaTeX braces alone', () => {
    const [message] = renderPrompt({ template: mathTemplate, variables: { problem: 'Find $\\frac{1}{2}$ of {x}.' } });
    expect(message).toEqual({
      role: 'user',
      content: 'Find $\\frac{1}{2}$ of {x}.\nPlease reason step by step, and put your final answer within \\boxed{}.',
    });
    expect(fillTemplate({ template: '{a}-{b}-{c}', variables: { a: '{b}', b: '2' } })).toBe('{b}-2-{c}');
  });

  it('adds a system turn when the template has one, and rejects an empty user template', () => {
    expect(renderPrompt({ template: { system: 'S {x}', user: 'U {x}' }, variables: { x: '1' } })).toEqual([
      { role: 'system', content: 'S 1' },
      { role: 'user', content: 'U 1' },
    ]);
    expect(() => renderPrompt({ template: { user: '' }, variables: {} })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });

  it('strips the boxed instruction from QwQ-style prompts', () => {
    expect(stripMathSuffix('What is 1+1?\nPlease reason step by step, and put your final answer within \\boxed{}.')).toBe('What is 1+1?');
    expect(stripMathSuffix('no suffix')).toBe('no suffix');
  });

  it('renders a ChatML Jinja chat template like transformers does', () => {
    const template =
      "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    expect(applyChatTemplate({ template, messages: [{ role: 'user', content: 'hi' }] })).toBe('<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
    expect(() => applyChatTemplate({ template: '{% for %}', messages: [] })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });
});
