"""Who may call: API keys and scopes, authentication, per-key rate limits."""
