"""sysinv's Horizon plugin: the Platform dashboard (hosts, labels, applications, system).

It talks to sysinv only over its REST API, with the logged-in user's Keystone token and
the ``platform`` endpoint of the user's catalog (or ``SYSINV_URL`` in Horizon's settings);
it never imports sysinv's service packages. See docs/horizon.md.
"""
