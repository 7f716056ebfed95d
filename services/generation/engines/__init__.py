"""Generation engines: each implements :class:`services.generation.engines.base.Engine`."""
