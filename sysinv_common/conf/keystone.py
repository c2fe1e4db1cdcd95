"""How sysinv reaches Keystone: validating tokens (the API), registering in the catalog."""

from typing import Any

from pydantic import BaseModel, Field, SecretStr


class KeystoneSettings(BaseModel):
    auth_url: str = Field("http://127.0.0.1:5000/v3", description="Keystone's identity URL (v3).")
    username: str = Field("sysinv", description="sysinv's service user in Keystone.")
    password: SecretStr = Field(
        SecretStr(""), description="Its password (keep the settings file 0600)."
    )
    project_name: str = Field("services", description="The service user's project.")
    user_domain_name: str = Field("Default", description="The service user's domain.")
    project_domain_name: str = Field("Default", description="Its project's domain.")
    region_name: str = Field("RegionOne", description="Region of sysinv's catalog endpoints.")
    interface: str = Field(
        "public",
        pattern="^(public|internal|admin)$",
        description="Which Keystone endpoint of the catalog sysinv itself talks to.",
    )
    token_cache_seconds: int = Field(
        300, ge=0, description="How long a validated token is trusted without asking Keystone."
    )
    timeout: float = Field(10.0, gt=0, description="Seconds per request to Keystone.")
    public_url: str | None = Field(
        None,
        description=(
            "sysinv's public endpoint for the catalog (sysinv keystone-register); "
            "unset: http://<api.bind_host>:<api.port>."
        ),
    )
    internal_url: str | None = Field(None, description="Its internal endpoint (default: public).")
    admin_url: str | None = Field(None, description="Its admin endpoint (default: internal).")

    def service_session(self) -> Any:
        """A keystoneauth1 session as sysinv's service user (the webhook's and the registry
        tokens' calls to Keystone); imported here so that a service without Keystone
        never loads keystoneauth1."""
        from keystoneauth1 import session
        from keystoneauth1.identity import v3

        auth = v3.Password(
            auth_url=self.auth_url, username=self.username,
            password=self.password.get_secret_value(), project_name=self.project_name,
            user_domain_name=self.user_domain_name, project_domain_name=self.project_domain_name,
        )  # fmt: skip
        return session.Session(auth=auth, timeout=self.timeout)
