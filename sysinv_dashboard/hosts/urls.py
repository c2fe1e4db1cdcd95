from __future__ import annotations

from django.urls import re_path

from sysinv_dashboard.hosts import views

urlpatterns = [
    re_path(r"^$", views.IndexView.as_view(), name="index"),
    re_path(r"^add/$", views.AddView.as_view(), name="add"),
    re_path(r"^(?P<host_id>[^/]+)/$", views.DetailView.as_view(), name="detail"),
    re_path(
        r"^(?P<host_id>[^/]+)/labels/assign/$",
        views.AssignLabelsView.as_view(),
        name="assign_labels",
    ),
]
