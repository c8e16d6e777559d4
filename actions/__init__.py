"""Rasa custom actions: thin adapters from the Rasa tracker to knowledge/ and escalation/.

Importing this package loads no model; the action server warms the knowledge base at start.
"""
