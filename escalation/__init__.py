"""Escalation to human agents: tickets, transcripts, handoff, the agent API and console."""
