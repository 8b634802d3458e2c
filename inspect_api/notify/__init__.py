"""Notifications: an in-app inbox per user first, then delivery channels (webhook, email)."""
