"""Application images in the local registry: which images an application uses, where
each comes from (a registry, through its configured mirror, or an archive in the bundle),
and moving them into the local registry over the registry HTTP API (docs/registry.md)."""
