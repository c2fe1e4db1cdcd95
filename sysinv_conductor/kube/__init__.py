"""The conductor's Kubernetes operations (official client; no database here)."""
