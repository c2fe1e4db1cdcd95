PANEL = "sysinv_applications"
PANEL_DASHBOARD = "platform"
PANEL_GROUP = "inventory"
ADD_PANEL = "sysinv_dashboard.applications.panel.Applications"
