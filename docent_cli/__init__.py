"""The ``docent`` command: thin, calls the services' public pieces."""
