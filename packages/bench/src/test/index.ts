export { type OpenAiServer, type ScriptedReply, type ScriptedRequest, startOpenAiServer } from './start-openai-server';
