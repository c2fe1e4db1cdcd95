PANEL = "sysinv_overrides"
PANEL_DASHBOARD = "platform"
PANEL_GROUP = "inventory"
ADD_PANEL = "sysinv_dashboard.overrides.panel.Overrides"
