from __future__ import annotations

from django.urls import re_path

from sysinv_dashboard.applications import views

urlpatterns = [
    re_path(r"^$", views.IndexView.as_view(), name="index"),
    re_path(r"^upload/$", views.UploadView.as_view(), name="upload"),
    re_path(r"^(?P<app_name>[^/]+)/update/$", views.UpdateView.as_view(), name="update"),
]
