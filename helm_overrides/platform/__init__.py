"""Override plugins for the platform's own charts (storage provisioners, audits)."""
