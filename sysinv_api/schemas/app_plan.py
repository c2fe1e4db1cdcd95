"""A plan on the wire (``GET /v1/apps/{name}/plan``): the conductor's answer less its
message envelope (``rpc_version``), which is not part of the REST answer."""

from __future__ import annotations

from pydantic import BaseModel, Field

from sysinv_common.messaging.rpcapi import AppPlan, ChartPlan


class AppPlanOut(BaseModel):
    """What an operation would do, chart by chart in the order it runs them."""

    name: str
    operation: str = Field(description="apply | remove | update")
    app_version: str
    target_version: str | None = Field(None, description="update: the version it deploys")
    charts: list[ChartPlan]


def plan_out(plan: AppPlan) -> AppPlanOut:
    return AppPlanOut(name=plan.name, operation=plan.operation, app_version=plan.app_version,
                      target_version=plan.target_version, charts=plan.charts)  # fmt: skip
