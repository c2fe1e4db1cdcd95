from __future__ import annotations

from django.urls import re_path

from sysinv_dashboard.system import views

urlpatterns = [
    re_path(r"^$", views.IndexView.as_view(), name="index"),
    re_path(r"^modify/$", views.ModifyView.as_view(), name="modify"),
]
