PANEL_GROUP = "inventory"
PANEL_GROUP_NAME = "Platform"
PANEL_GROUP_DASHBOARD = "platform"
