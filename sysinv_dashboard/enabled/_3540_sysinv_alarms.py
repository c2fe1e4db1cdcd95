PANEL = "sysinv_alarms"
PANEL_DASHBOARD = "platform"
PANEL_GROUP = "inventory"
ADD_PANEL = "sysinv_dashboard.alarms.panel.Alarms"
