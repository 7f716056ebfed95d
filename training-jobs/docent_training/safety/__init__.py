"""The moderation service's safety classifier: template corpus and ``docent train safety``."""
