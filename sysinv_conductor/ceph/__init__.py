"""The conductor's Ceph client: connections with a timeout on every call (``client``),
pools (``pools``), client keys (``keys``) and the cluster's health and usage (``status``).

Everything goes through Debian's ``rados``/``rbd`` bindings (``bindings``); nothing here
touches the database.
"""
