"""The generation service: chat messages in, streamed tokens out, from a local LLM.

The transport-free core lives here (settings, model store, engines); the gRPC servicer only
adapts :class:`services.generation.engines.base.Engine` to the wire.
"""
