"""Throwaway real servers for the tests: Kubernetes control plane, PostgreSQL, Redis, helm.

Everything starts on free loopback ports in its own directory and is stopped, with its
whole process group, when the test session ends (also on SIGINT/SIGTERM).
"""
