// Test doubles for code built on @aipo/agents (the trainer, recipes, e2e): a scripted TokenPolicy
// and a scripted OpenAI-compatible server speaking real HTTP and SSE on 127.0.0.1.
export { createScriptedTokenPolicy, fromHfTokenizer, type TextCodec } from './scripted-token-policy';
export {
  completion,
  startOpenAITestServer,
  streamChunks,
  type ReceivedRequest,
  type ScriptedReply,
} from './openai-test-server';
