"""The agent protocol shared by the gateway, training and evaluation."""
