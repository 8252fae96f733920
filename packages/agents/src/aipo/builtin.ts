import { createRegistry, type Registry } from '@aipo/core';
import type { Agent } from './agent';
import { type AgentRole, knowledgeRole, reasoningRole, verifyRole } from './agent-role';

/** The three AIPO roles (arXiv 2605.08401), in the order the training prompt lists them. */
export const builtinAgentRoles: readonly AgentRole[] = [verifyRole, knowledgeRole, reasoningRole];

/** A fresh registry of role definitions holding the built-ins; register your own roles on it. */
export function createAgentRoleRegistry(): Registry<AgentRole> {
  return createRegistry<AgentRole>(
    'agent role',
    builtinAgentRoles.map((role) => [role.name, role] as const),
  );
}

/** A registry of agent instances keyed by their names (what a rollout consults). */
export function createAgentRegistry(agents: Iterable<Agent> = []): Registry<Agent> {
  return createRegistry<Agent>(
    'agent',
    [...agents].map((agent) => [agent.name, agent] as const),
  );
}
