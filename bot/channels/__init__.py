"""Rasa's own input channels, subclassed where the stock ones leave a gap (see each class)."""
