import type { AgentStreamEnvelope } from "@/client";

/** One Server-Sent Event of POST /agent/run/stream (generated from the backend's OpenAPI). */
export type AgentStreamEvent = AgentStreamEnvelope["event"];
export type AgentStreamEventType = AgentStreamEvent["type"];
export type AgentStreamEventOf<T extends AgentStreamEventType> = Extract<AgentStreamEvent, { type: T }>;
