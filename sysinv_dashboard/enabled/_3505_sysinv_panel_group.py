PANEL_GROUP = "inventory"
PANEL_GROUP_NAME = "Inventory"
PANEL_GROUP_DASHBOARD = "platform"
