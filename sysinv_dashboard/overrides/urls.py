from __future__ import annotations

from django.urls import re_path

from sysinv_dashboard.overrides import views

urlpatterns = [
    re_path(r"^$", views.IndexView.as_view(), name="index"),
    re_path(r"^(?P<chart_id>[^/]+)/$", views.DetailView.as_view(), name="detail"),
    re_path(r"^(?P<chart_id>[^/]+)/edit/$", views.EditView.as_view(), name="edit"),
]
