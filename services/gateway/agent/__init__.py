"""The ReAct agent: POST /v1/agent, its loop and its tools."""
