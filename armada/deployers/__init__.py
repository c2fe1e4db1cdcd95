"""Deployers run a Plan and report the same Events whatever runs underneath."""
