"""System and user Helm overrides: the model snapshot, secrets, and their layering."""
