PANEL = "sysinv_system"
PANEL_DASHBOARD = "platform"
PANEL_GROUP = "inventory"
ADD_PANEL = "sysinv_dashboard.system.panel.System"
