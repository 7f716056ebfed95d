"""Toxicity backends behind :class:`~services.moderation.backends.base.ToxicityBackend`."""
