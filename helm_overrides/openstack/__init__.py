"""Override plugins for the openstack-helm charts."""
