"""Tools the agent may call, one module each, behind :class:`tools.base.Tool`."""
