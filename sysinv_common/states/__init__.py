"""State machines: one module per resource owns its transitions."""
