from __future__ import annotations

from django.urls import re_path

from sysinv_dashboard.alarms import views

urlpatterns = [re_path(r"^$", views.IndexView.as_view(), name="index")]
