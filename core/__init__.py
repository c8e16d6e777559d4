"""The ground floor: settings and the error root, which every other package may import.

It imports nothing of ours, so no import ever runs back up a floor (docs/architecture.md).
"""
