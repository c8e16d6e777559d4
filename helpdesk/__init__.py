"""Composition root: settings, command line and the process supervisor."""
