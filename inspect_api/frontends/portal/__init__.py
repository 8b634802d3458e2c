"""The institution portal (``/portal/``): rectification orders, answers, extensions, inbox, profile and poster."""
