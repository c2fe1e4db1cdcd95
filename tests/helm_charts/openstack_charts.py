"""What the real OpenStack charts of each era deploy, as facts for the test bundle.

Two eras, each a snapshot of the charts as published:

- ``2019``: what StarlingX's stx-openstack application deployed at the end of 2019:
  openstack-helm 82c72367 and openstack-helm-infra c9d6676b (the commits its build
  pinned), and the placement chart StarlingX added as a patch to openstack-helm.
- ``current``: openstack-helm 0ee5adef (the infrastructure charts merged into it) and, for
  ingress, openstack-helm-infra d31027cf: the commits tests/data/chart_key_paths.json was
  collected from.

For every chart the bundle has (tests/helm_charts/openstack_app.py writes them), this
module records, per era: its Deployments, DaemonSets and StatefulSets (object name,
``component`` label, the ``labels.<path>`` placing them, ``pod.replicas`` key, image key,
``dependencies.static`` key), the Jobs the workloads wait for, the Services other charts'
dependencies resolve to, the Secrets that carry connections built from ``endpoints``, and
the values.yaml keys all of those read. Names and keys are the real charts'; the templates
that use them are the tests' own. A subset, chosen so that every dependency a workload
declares is satisfied by another object of the bundle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ERA_2019 = "2019"
ERA_CURRENT = "current"
ERAS = (ERA_2019, ERA_CURRENT)

CONTROL = "openstack-control-plane"
COMPUTE = "openstack-compute-node"
OVS = "openvswitch"


@dataclass(frozen=True)
class Workload:
    """A Deployment, DaemonSet or StatefulSet of a chart."""

    kind: str
    #: Object name; ``{release}`` stands for the release name.
    name: str
    component: str
    #: ``labels.<label>`` places its pods.
    label: str
    #: ``images.tags.<image>``: its main container.
    image: str
    #: ``dependencies.static.<deps>`` (and ``dynamic.targeted.<backend>.<deps>``).
    deps: str
    #: ``pod.replicas.<replicas>``; None for a DaemonSet.
    replicas: str | None = None
    #: ``manifests.<flag>`` turns it off.
    flag: str | None = None
    #: ``conf.overrides.<per_host>.hosts``: helm-toolkit's per-host daemonsets.
    per_host: str | None = None
    #: The Secret (a ``secrets.*`` path or a name) holding its configuration file.
    etc: str | None = None
    #: Extra pod labels (the ingress controller's ``app``).
    pod_labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Env:
    """A container variable: a literal, or a key of a Secret: the one ``secrets.<path>``
    names, or ``name:<name>`` (``{release}`` stands for the release name)."""

    name: str
    value: str | None = None
    secret: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class Job:
    name: str
    component: str
    deps: str
    image: str
    flag: str
    #: One container per entry: its variables.
    containers: tuple[tuple[Env, ...], ...] = ((),)
    #: ``labels.<label>`` places its pod (rabbitmq's jobs use ``jobs``).
    label: str = "job"
    #: Mounts the chart's etc Secret.
    etc: bool = False


@dataclass(frozen=True)
class Service:
    """A Service named ``endpoints.<endpoint>.hosts.<host>``."""

    endpoint: str
    host: str
    #: ``endpoints.<endpoint>.port.<port>.<port_type>``.
    port: str
    port_type: str = "default"
    #: The pods it selects: a component of this release, or explicit labels.
    component: str | None = None
    selector: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ConfFile:
    """The chart's etc Secret: an oslo.config file from ``conf.<root>``, where the
    connections left empty are built from ``endpoints`` (section, option, endpoint,
    user class, port)."""

    secret: str
    file: str
    root: str
    computed: tuple[tuple[str, str, str, str, str], ...]


@dataclass(frozen=True)
class ChartFacts:
    name: str
    workloads: tuple[Workload, ...]
    jobs: tuple[Job, ...] = ()
    services: tuple[Service, ...] = ()
    #: (endpoint, user classes): a Secret per class, ``secrets.<endpoint>.<class>``, with
    #: ``DB_CONNECTION``.
    db_secrets: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: ``oslo_messaging`` user classes with a ``RABBITMQ_CONNECTION`` Secret.
    mq_secrets: tuple[str, ...] = ()
    #: Whether those Secrets also carry ``TRANSPORT_URL`` (nova, 2019).
    mq_transport_url: bool = False
    #: ``identity`` user classes with an openrc Secret.
    ks_secrets: tuple[str, ...] = ()
    conf: ConfFile | None = None
    #: Other Secrets: (name, ((key, values path of its value), ...)).
    extra_secrets: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    #: The ``application`` label, when it is not the chart's name.
    application: str | None = None
    #: Everything else in values.yaml (dependencies, endpoints, secrets, conf...).
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def app(self) -> str:
        return self.application or self.name


# --- images -------------------------------------------------------------------------


def _images(era: str, **tags: str) -> dict[str, str]:
    """``images.tags``: ``svc:NAME`` is the era's OpenStack image of NAME, ``helper`` the
    image the real charts run their keystone and database helper jobs in, anything else
    a full reference."""
    if era == ERA_2019:
        svc, helper = "docker.io/openstackhelm/{}:ocata-ubuntu_xenial", "heat"
        dep_check = "quay.io/stackanetes/kubernetes-entrypoint:v0.3.1"
    else:
        svc, helper = "quay.io/airshipit/{}:2026.1-ubuntu_noble", "openstack-client"
        dep_check = "quay.io/airshipit/kubernetes-entrypoint:latest-ubuntu_noble"
    out = {"dep_check": dep_check}
    for key, ref in tags.items():
        if ref == "helper":
            ref = svc.format(helper)
        elif ref.startswith("svc:"):
            ref = svc.format(ref[4:])
        out[key] = ref
    return out


def _rabbit_init_image(era: str) -> str:
    return "docker.io/rabbitmq:3.7-management" if era == ERA_2019 else (
        "docker.io/rabbitmq:4.3.5-management")  # fmt: skip


# --- endpoints ----------------------------------------------------------------------


def _auth(**users: str) -> dict[str, Any]:
    return {cls: {"username": name, "password": "password"} for cls, name in users.items()}


def _db(path: str | None, **users: str) -> dict[str, Any]:
    ep: dict[str, Any] = {
        "auth": _auth(**users), "hosts": {"default": "mariadb"},
        "host_fqdn_override": {"default": None}, "scheme": "mysql+pymysql",
        "port": {"mysql": {"default": 3306}},
    }  # fmt: skip
    if path is not None:
        ep["path"] = path
    return ep


def _mq(path: str, **users: str) -> dict[str, Any]:
    return {
        "auth": _auth(**users), "hosts": {"default": "rabbitmq"},
        "host_fqdn_override": {"default": None}, "path": path, "scheme": "rabbit",
        "port": {"amqp": {"default": 5672}, "http": {"default": 15672}},
    }  # fmt: skip


IDENTITY_EXTRA = ("region_name", "project_name", "user_domain_name", "project_domain_name")


def _identity(**users: str) -> dict[str, Any]:
    auth: dict[str, Any] = {}
    for cls, name in users.items():
        project, domain = ("admin", "default") if cls == "admin" else ("service", "service")
        auth[cls] = {
            "region_name": "RegionOne", "username": name, "password": "password",
            "project_name": project, "user_domain_name": domain, "project_domain_name": domain,
        }  # fmt: skip
    return {
        "name": "keystone", "auth": auth,
        "hosts": {"default": "keystone", "internal": "keystone-api"},
        "host_fqdn_override": {"default": None}, "path": {"default": "/v3"},
        "scheme": {"default": "http"}, "port": {"api": {"default": 80, "internal": 5000}},
    }  # fmt: skip


def _api(name: str, default: str, public: str, port: str, number: int) -> dict[str, Any]:
    return {
        "name": name, "hosts": {"default": default, "public": public},
        "host_fqdn_override": {"default": None}, "port": {port: {"default": number}},
    }  # fmt: skip


CACHE = {"hosts": {"default": "memcached"}, "host_fqdn_override": {"default": None},
         "port": {"memcache": {"default": 11211}}}  # fmt: skip
COMPUTE_EP = _api("nova", "nova-api", "nova", "api", 8774)
METADATA_EP = _api("nova", "nova-metadata", "metadata", "metadata", 8775)
NETWORK_EP = _api("neutron", "neutron-server", "neutron", "api", 9696)
IMAGE_EP = _api("glance", "glance-api", "glance", "api", 9292)


def _svc(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    """Dependency ``services`` entries from (service, endpoint) pairs."""
    return [{"endpoint": endpoint, "service": service} for service, endpoint in pairs]


DB, MQ, CACHE_I, ID = ("oslo_db", "internal"), ("oslo_messaging", "internal"), (
    "oslo_cache", "internal"), ("identity", "internal")  # fmt: skip
LIFECYCLE = {"upgrades": {"deployments": {"revision_history": 3,
             "pod_replacement_strategy": "RollingUpdate",
             "rolling_update": {"max_unavailable": 1, "max_surge": 3}}}}  # fmt: skip
ANTI = {"anti": {"type": {"default": "preferredDuringSchedulingIgnoredDuringExecution"},
                 "topologyKey": {"default": "kubernetes.io/hostname"},
                 "weight": {"default": 10}}}  # fmt: skip
ANTI_UNWEIGHTED = {"anti": {k: v for k, v in ANTI["anti"].items() if k != "weight"}}


# --- the keystone-style jobs of a service (helm-toolkit's job manifests) -------------


def _openrc(prefix: str, secret: str) -> tuple[Env, ...]:
    keys = ("OS_AUTH_URL", "OS_REGION_NAME", "OS_INTERFACE", "OS_PROJECT_DOMAIN_NAME",
            "OS_PROJECT_NAME", "OS_USER_DOMAIN_NAME", "OS_USERNAME", "OS_PASSWORD")  # fmt: skip
    return tuple(Env(prefix + k, secret=secret, key=k) for k in keys)


def _ks_jobs(svc: str, service_type: str) -> tuple[Job, ...]:
    admin = _openrc("", "identity.admin")
    return (
        Job(f"{svc}-ks-user", "ks-user", "ks_user", "ks_user", "job_ks_user", ((
            *admin, *_openrc("SERVICE_", f"identity.{svc}"),
            Env("SERVICE_OS_SERVICE_NAME", svc), Env("SERVICE_OS_ROLES", "admin")),)),
        Job(f"{svc}-ks-service", "ks-service", "ks_service", "ks_service", "job_ks_service", ((
            *admin, Env("OS_SERVICE_NAME", svc), Env("OS_SERVICE_TYPE", service_type)),)),
        Job(f"{svc}-ks-endpoints", "ks-endpoints", "ks_endpoints", "ks_endpoints",
            "job_ks_endpoints", tuple(
                (*admin, Env("OS_SVC_ENDPOINT", iface), Env("OS_SERVICE_NAME", svc),
                 Env("OS_SERVICE_TYPE", service_type))
                for iface in ("admin", "internal", "public"))),
    )  # fmt: skip


def _db_init(svc: str, dbs: tuple[tuple[str, str, str | None], ...]) -> Job:
    """One container per database: (admin secret path, config section, or the user
    secret path when the connection is not in the config file)."""
    containers = []
    for admin, section, user_secret in dbs:
        env = [Env("ROOT_DB_CONNECTION", secret=admin, key="DB_CONNECTION")]
        if user_secret:
            env.append(Env("DB_CONNECTION", secret=user_secret, key="DB_CONNECTION"))
        else:
            env += [Env("OPENSTACK_CONFIG_FILE", f"/etc/{svc}/{svc}.conf"),
                    Env("OPENSTACK_CONFIG_DB_SECTION", section),
                    Env("OPENSTACK_CONFIG_DB_KEY", "connection")]  # fmt: skip
        containers.append(tuple(env))
    return Job(f"{svc}-db-init", "db-init", "db_init", "db_init", "job_db_init",
               tuple(containers), etc=True)  # fmt: skip


def _db_sync(svc: str, *env: Env) -> Job:
    return Job(f"{svc}-db-sync", "db-sync", "db_sync", f"{svc}_db_sync", "job_db_sync",
               (env,), etc=True)  # fmt: skip


def _rabbit_init(svc: str) -> Job:
    return Job(f"{svc}-rabbit-init", "rabbit-init", "rabbit_init", "rabbit_init",
               "job_rabbit_init", ((
                   Env("RABBITMQ_ADMIN_CONNECTION", secret="oslo_messaging.admin",
                       key="RABBITMQ_CONNECTION"),
                   Env("RABBITMQ_USER_CONNECTION", secret=f"oslo_messaging.{svc}",
                       key="RABBITMQ_CONNECTION")),))  # fmt: skip


def _ks_deps(svc: str) -> dict[str, Any]:
    return {
        "ks_user": {"services": _svc(ID)},
        "ks_service": {"services": _svc(ID)},
        "ks_endpoints": {"jobs": [f"{svc}-ks-service"], "services": _svc(ID)},
    }


def _db_deps(svc: str) -> dict[str, Any]:
    return {
        "db_init": {"services": _svc(DB)},
        "db_sync": {"jobs": [f"{svc}-db-init"], "services": _svc(DB)},
    }


def _secret_names(
    era: str, svc: str, identity: tuple[str, ...], db: bool, mq: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "identity": {c: f"{svc}-keystone-{'admin' if c == 'admin' else 'user' if c == svc else c}"
                     for c in identity}}  # fmt: skip
    if db:
        out["oslo_db"] = {"admin": f"{svc}-db-admin", svc: f"{svc}-db-user"}
        if era != ERA_2019:  # the unused user Secrets went in 11592d60
            del out["oslo_db"][svc]
    if mq:
        out["oslo_messaging"] = {"admin": f"{svc}-rabbitmq-admin", svc: f"{svc}-rabbitmq-user"}
    return out


def _db_classes(era: str, svc: str) -> tuple[str, ...]:
    """The user classes with a ``DB_CONNECTION`` Secret: the service's own only in 2019."""
    return ("admin", svc) if era == ERA_2019 else ("admin",)


def _labels(**placed: str) -> dict[str, Any]:
    """``labels``: path (``agent__dhcp`` for ``agent.dhcp``) -> the label it defaults to."""
    out: dict[str, Any] = {}
    for path, label in placed.items():
        node = out
        keys = path.split("__")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = {"node_selector_key": label, "node_selector_value": "enabled"}
    return out


def _deploy(name: str, component: str, label: str, image: str, deps: str, replicas: str,
            **kw: Any) -> Workload:  # fmt: skip
    return Workload("Deployment", name, component, label, image, deps, replicas, **kw)


def _daemonset(name: str, component: str, label: str, image: str, deps: str,
               **kw: Any) -> Workload:  # fmt: skip
    return Workload("DaemonSet", name, component, label, image, deps, **kw)


# --- the charts -----------------------------------------------------------------------


def mariadb(era: str) -> ChartFacts:
    server = Workload("StatefulSet", "mariadb-server", "server", "server", "mariadb",
                      "mariadb", "server", flag="statefulset")  # fmt: skip
    dbadmin = (
        (
            "mariadb-dbadmin-password",
            (("MYSQL_DBADMIN_PASSWORD", "endpoints.oslo_db.auth.admin.password"),),
        ),
    )
    if era == ERA_2019:
        return ChartFacts(
            "mariadb",
            (server,
             _deploy("mariadb-ingress", "ingress", "ingress", "ingress", "ingress", "ingress",
                     flag="deployment_ingress"),
             _deploy("mariadb-ingress-error-pages", "ingress-error-pages", "error_server",
                     "error_pages", "error_pages", "error_page", flag="deployment_error")),
            services=(Service("oslo_db", "default", "mysql", component="ingress"),
                      Service("oslo_db", "direct", "mysql", component="server"),
                      Service("oslo_db", "discovery", "wsrep", component="server"),
                      Service("oslo_db", "error_pages", "mysql",
                              component="ingress-error-pages")),
            values={
                "labels": _labels(server=CONTROL, ingress=CONTROL, error_server=CONTROL,
                                  job=CONTROL, prometheus_mysql_exporter=CONTROL),
                "pod": {"replicas": {"server": 3, "ingress": 2, "error_page": 1},
                        "affinity": ANTI, "lifecycle": LIFECYCLE},
                "images": {"tags": _images(
                    era, mariadb="docker.io/openstackhelm/mariadb:10.2.18",
                    ingress="quay.io/kubernetes-ingress-controller/nginx-ingress-controller:0.9.0",
                    error_pages="gcr.io/google_containers/defaultbackend:1.0")},
                "dependencies": {"static": {
                    "mariadb": {"jobs": None, "services": None},
                    "ingress": {"jobs": None, "services": _svc(("oslo_db", "error_pages"))},
                    "error_pages": {"jobs": None}}},
                "endpoints": {"oslo_db": {
                    **_db(None, admin="root"),
                    "hosts": {"default": "mariadb", "direct": "mariadb-server",
                              "discovery": "mariadb-discovery",
                              "error_pages": "mariadb-ingress-error-pages"},
                    "port": {"mysql": {"default": 3306}, "wsrep": {"default": 4567}}}},
            },
            extra_secrets=dbadmin,
        )  # fmt: skip
    return ChartFacts(
        "mariadb",
        (server,
         _deploy("mariadb-controller", "controller", "controller", "mariadb_controller",
                 "controller", "controller", flag="deployment_controller")),
        jobs=(Job("{release}-cluster-wait", "cluster-wait", "cluster_wait", "mariadb",
                  "job_cluster_wait", ((Env("MARIADB_HOST", "mariadb"),),)),),
        services=(Service("oslo_db", "default", "mysql", component="server"),
                  Service("oslo_db", "direct", "mysql", component="server"),
                  Service("oslo_db", "discovery", "wsrep", component="server")),
        values={
            "labels": _labels(server=CONTROL, controller=CONTROL, job=CONTROL,
                              prometheus_mysql_exporter=CONTROL),
            "pod": {"replicas": {"server": 3, "controller": 1},
                    "affinity": ANTI, "lifecycle": LIFECYCLE},
            "images": {"tags": _images(
                era, mariadb="quay.io/airshipit/mariadb:latest-ubuntu_noble",
                mariadb_controller="quay.io/airshipit/mariadb:latest-ubuntu_noble")},
            "dependencies": {"static": {
                "controller": {"services": None},
                "cluster_wait": {"services": _svc(DB)}}},
            "endpoints": {"oslo_db": {
                **_db(None, admin="root"),
                "hosts": {"default": "mariadb", "direct": "mariadb-server",
                          "discovery": "mariadb-discovery"},
                "port": {"mysql": {"default": 3306}, "wsrep": {"default": 4567}}}},
            "manifests": {"job_cluster_wait": True},
        },
        extra_secrets=dbadmin,
    )  # fmt: skip


def rabbitmq(era: str) -> ChartFacts:
    statefulset = Workload("StatefulSet", "{release}-rabbitmq", "server", "server",
                           "rabbitmq", "rabbitmq", "server", flag="statefulset")  # fmt: skip
    rabbitmq_image = "docker.io/rabbitmq:3.7.13" if era == ERA_2019 else "docker.io/rabbitmq:4.3.5"
    return ChartFacts(
        "rabbitmq",
        (statefulset,),
        jobs=(Job("{release}-cluster-wait", "cluster-wait", "cluster_wait", "rabbitmq_init",
                  "job_cluster_wait", ((
                      Env("RABBITMQ_ADMIN_USERNAME", secret="name:{release}-admin-user",
                          key="RABBITMQ_ADMIN_USERNAME"),
                      Env("RABBITMQ_ADMIN_PASSWORD", secret="name:{release}-admin-user",
                          key="RABBITMQ_ADMIN_PASSWORD")),), label="jobs"),),
        services=(Service("oslo_messaging", "default", "amqp", component="server"),),
        extra_secrets=(("{release}-admin-user", (
            ("RABBITMQ_ADMIN_USERNAME", "endpoints.oslo_messaging.auth.user.username"),
            ("RABBITMQ_ADMIN_PASSWORD", "endpoints.oslo_messaging.auth.user.password"))),),
        values={
            "labels": _labels(server=CONTROL, jobs=CONTROL, test=CONTROL),
            "pod": {"replicas": {"server": 2}, "affinity": ANTI, "lifecycle": LIFECYCLE},
            "images": {"tags": _images(era, rabbitmq=rabbitmq_image, rabbitmq_init="helper")},
            "dependencies": {"static": {
                "rabbitmq": {"jobs": None},
                "cluster_wait": {"services": _svc(MQ)}}},
            "endpoints": {"oslo_messaging": {
                **_mq("/", user="rabbitmq"),
                "hosts": {"default": "rabbitmq"}}},
        },
    )  # fmt: skip


def memcached(era: str) -> ChartFacts:
    kind = "Deployment" if era == ERA_2019 else "StatefulSet"
    flag = "deployment" if era == ERA_2019 else "statefulset"
    image = "docker.io/memcached:1.5.5" if era == ERA_2019 else (
        "quay.io/airshipit/memcached:1.6.32")  # fmt: skip
    return ChartFacts(
        "memcached",
        (Workload(kind, "{release}-memcached", "server", "server", "memcached", "memcached",
                  "server", flag=flag),),
        services=(Service("oslo_cache", "default", "memcache", component="server"),),
        values={
            "labels": _labels(server=CONTROL),
            "pod": {"replicas": {"server": 1}, "affinity": ANTI,
                    **({"lifecycle": LIFECYCLE} if kind == "Deployment" else {})},
            "images": {"tags": _images(era, memcached=image)},
            "dependencies": {"static": {"memcached": {"jobs": None}}},
            "endpoints": {"oslo_cache": CACHE},
        },
    )  # fmt: skip


def ingress(era: str) -> ChartFacts:
    images = (
        {"ingress": "quay.io/kubernetes-ingress-controller/nginx-ingress-controller:0.23.0",
         "error_pages": "gcr.io/google_containers/defaultbackend:1.0",
         "entrypoint": "quay.io/stackanetes/kubernetes-entrypoint:v0.3.1"}
        if era == ERA_2019 else
        {"ingress": "registry.k8s.io/ingress-nginx/controller:v1.8.2",
         "error_pages": "registry.k8s.io/defaultbackend:1.4",
         "entrypoint": "quay.io/airshipit/kubernetes-entrypoint:v1.0.0"}
    )  # fmt: skip
    return ChartFacts(
        "ingress",
        (_deploy("ingress", "server", "server", "ingress", "ingress", "ingress",
                 flag="deployment_ingress", pod_labels=(("app", "ingress-api"),)),
         _deploy("ingress-error-pages", "error-pages", "error_server", "error_pages",
                 "error_pages", "error_page", flag="deployment_error")),
        values={
            "labels": _labels(server=CONTROL, error_server=CONTROL),
            "pod": {"replicas": {"ingress": 1, "error_page": 1}, "affinity": ANTI,
                    "lifecycle": LIFECYCLE},
            "images": {"tags": _images(era, **images)},
            "dependencies": {"static": {"ingress": {"jobs": None},
                                        "error_pages": {"jobs": None}}},
        },
    )  # fmt: skip


def keystone(era: str) -> ChartFacts:
    api_jobs = ["keystone-db-sync", "keystone-credential-setup", "keystone-fernet-setup"]
    deps: dict[str, Any] = {
        "api": {"jobs": api_jobs + (["keystone-rabbit-init"] if era == ERA_2019 else []),
                "services": _svc(CACHE_I, DB)},
        "credential_setup": None,
        "fernet_setup": None,
        **_db_deps("keystone"),
    }  # fmt: skip
    deps["db_sync"]["jobs"] = ["keystone-db-init", "keystone-credential-setup",
                               "keystone-fernet-setup"]  # fmt: skip
    if era == ERA_2019:
        deps["rabbit_init"] = {"services": _svc(MQ)}
    return ChartFacts(
        "keystone",
        (_deploy("keystone-api", "api", "api", "keystone_api", "api", "api",
                 flag="deployment_api", etc="keystone-etc"),),
        jobs=(
            _db_init("keystone", (("oslo_db.admin", "database", None),)),
            _db_sync("keystone"),
            Job("keystone-credential-setup", "credential-setup", "credential_setup",
                "keystone_credential_setup", "job_credential_setup", etc=True),
            Job("keystone-fernet-setup", "fernet-setup", "fernet_setup",
                "keystone_fernet_setup", "job_fernet_setup", etc=True),
            _rabbit_init("keystone"),
        ),
        services=(Service("identity", "internal", "api", "internal", component="api"),),
        db_secrets=(("oslo_db", _db_classes(era, "keystone")),),
        mq_secrets=("admin", "keystone"),
        ks_secrets=("admin",),
        conf=ConfFile("keystone-etc", "keystone.conf", "keystone", (
            ("database", "connection", "oslo_db", "keystone", "mysql"),
            ("DEFAULT", "transport_url", "oslo_messaging", "keystone", "amqp"))),
        values={
            "labels": _labels(api=CONTROL, job=CONTROL, test=CONTROL),
            "pod": {"replicas": {"api": 1}, "affinity": ANTI, "lifecycle": LIFECYCLE},
            "images": {"tags": _images(
                era, keystone_api="svc:keystone", keystone_db_sync="svc:keystone",
                keystone_credential_setup="svc:keystone", keystone_fernet_setup="svc:keystone",
                db_init="helper", rabbit_init=_rabbit_init_image(era))},
            "dependencies": {"static": deps},
            "endpoints": {
                "identity": _identity(admin="admin"),
                "oslo_db": _db("/keystone", admin="root", keystone="keystone"),
                "oslo_messaging": _mq("/keystone", admin="rabbitmq", keystone="keystone"),
                "oslo_cache": CACHE},
            "secrets": _secret_names(era, "keystone", ("admin",), True, True),
            "conf": {"keystone": {"DEFAULT": {"max_token_size": 255},
                                  "database": {"max_retries": -1}}},
        },
    )  # fmt: skip


def glance(era: str) -> ChartFacts:
    api_jobs = ["glance-storage-init", "glance-db-sync", "glance-rabbit-init", "glance-ks-user",
                "glance-ks-endpoints"]  # fmt: skip
    deps: dict[str, Any] = {
        "api": {"jobs": api_jobs, "services": _svc(DB, ID, MQ)},
        "storage_init": {"jobs": ["glance-ks-user"], "services": None},
        "rabbit_init": {"services": _svc(MQ)},
        **_db_deps("glance"), **_ks_deps("glance"),
    }  # fmt: skip
    workloads = [_deploy("glance-api", "api", "api", "glance_api", "api", "api",
                         flag="deployment_api", etc="glance-etc")]  # fmt: skip
    labels = {"api": CONTROL, "job": CONTROL, "test": CONTROL}
    replicas = {"api": 1}
    images = {"glance_api": "svc:glance"}
    if era == ERA_2019:
        workloads.append(_deploy("glance-registry", "registry", "registry", "glance_registry",
                                 "registry", "registry", flag="deployment_registry",
                                 etc="glance-etc"))  # fmt: skip
        deps["registry"] = {"jobs": api_jobs, "services": _svc(DB, ID, ("image", "internal"))}
        labels["registry"] = CONTROL
        replicas["registry"] = 1
        images["glance_registry"] = "svc:glance"
    return ChartFacts(
        "glance",
        tuple(workloads),
        jobs=(
            _db_init("glance", (("oslo_db.admin", "database", None),)),
            _db_sync("glance"),
            *_ks_jobs("glance", "image"),
            _rabbit_init("glance"),
            Job("glance-storage-init", "storage-init", "storage_init", "glance_storage_init",
                "job_storage_init", ((Env("STORAGE_BACKEND", "pvc"),),)),
        ),
        services=(Service("image", "default", "api", component="api"),),
        db_secrets=(("oslo_db", _db_classes(era, "glance")),),
        mq_secrets=("admin", "glance"),
        ks_secrets=("admin", "glance"),
        conf=ConfFile("glance-etc", "glance-api.conf", "glance", (
            ("database", "connection", "oslo_db", "glance", "mysql"),
            ("DEFAULT", "transport_url", "oslo_messaging", "glance", "amqp"))),
        values={
            "labels": _labels(**labels),
            "pod": {"replicas": replicas, "affinity": ANTI, "lifecycle": LIFECYCLE},
            "images": {"tags": _images(
                era, **images, glance_db_sync="svc:glance", db_init="helper", ks_user="helper",
                ks_service="helper", ks_endpoints="helper", glance_storage_init="helper",
                rabbit_init=_rabbit_init_image(era))},
            "dependencies": {"static": deps},
            "endpoints": {
                "identity": _identity(admin="admin", glance="glance"),
                "oslo_db": _db("/glance", admin="root", glance="glance"),
                "oslo_messaging": _mq("/glance", admin="rabbitmq", glance="glance"),
                "oslo_cache": CACHE, "image": IMAGE_EP},
            "secrets": _secret_names(era, "glance", ("admin", "glance"), True, True),
            "conf": {"glance": {"DEFAULT": {"workers": 1}, "database": {"max_retries": -1}}},
        },
    )  # fmt: skip


def placement(era: str) -> ChartFacts:
    return ChartFacts(
        "placement",
        (_deploy("placement-api", "api", "api", "placement", "api", "api",
                 flag="deployment", etc="placement-etc"),),
        jobs=(_db_init("placement", (("oslo_db.admin", "placement_database", None),)),
              _db_sync("placement"), *_ks_jobs("placement", "placement")),
        services=(Service("placement", "default", "api", component="api"),),
        db_secrets=(("oslo_db", _db_classes(era, "placement")),),
        ks_secrets=("admin", "placement"),
        conf=ConfFile("placement-etc", "placement.conf", "placement", (
            ("placement_database", "connection", "oslo_db", "placement", "mysql"),)),
        values={
            "labels": _labels(api=CONTROL, job=CONTROL),
            "pod": {"replicas": {"api": 1}, "affinity": ANTI_UNWEIGHTED, "lifecycle": LIFECYCLE},
            "images": {"tags": _images(
                era, placement="svc:placement", placement_db_sync="svc:placement",
                db_init="helper", ks_user="helper", ks_service="helper", ks_endpoints="helper")},
            "dependencies": {"static": {
                "api": {"jobs": ["placement-db-sync", "placement-ks-service",
                                 "placement-ks-user", "placement-ks-endpoints"]},
                **_db_deps("placement"),
                "ks_user": {"services": _svc(ID)},
                "ks_service": {"services": _svc(ID)},
                "ks_endpoints": {"jobs": ["placement-ks-user", "placement-ks-service"],
                                 "services": _svc(ID)}}},
            "endpoints": {
                "identity": _identity(admin="admin", placement="placement"),
                "oslo_db": _db("/placement", admin="root", placement="placement"),
                "oslo_cache": CACHE,
                "placement": _api("placement", "placement-api", "placement", "api", 8778)},
            "secrets": _secret_names(era, "placement", ("admin", "placement"), True, False),
            "conf": {"placement": {"DEFAULT": {"debug": False}}},
        },
    )  # fmt: skip


def nova(era: str) -> ChartFacts:
    control = ("osapi", "api_metadata", "conductor", "scheduler", "novncproxy")
    api_deps = {"jobs": ["nova-db-sync", "nova-ks-user", "nova-ks-endpoints", "nova-rabbit-init"],
                "services": _svc(MQ, DB, ID)}  # fmt: skip
    service_deps = {"jobs": ["nova-db-sync", "nova-rabbit-init"],
                    "services": _svc(MQ, DB, ID, ("compute", "internal"))}  # fmt: skip
    deps: dict[str, Any] = {
        "api": api_deps, "api_metadata": api_deps,
        "conductor": service_deps, "scheduler": service_deps,
        "novncproxy": {"jobs": ["nova-db-sync"], "services": _svc(DB)},
        "compute": {
            "pod": [{"requireSameNode": True,
                     "labels": {"application": "libvirt", "component": "libvirt"}}],
            "jobs": ["nova-db-sync", "nova-rabbit-init"],
            "services": _svc(MQ, ("image", "internal"), ("compute", "internal"),
                             ("network", "internal"), ("compute_metadata", "internal"))},
        "cell_setup": {
            "jobs": ["nova-db-sync", "nova-rabbit-init"],
            "services": _svc(MQ, DB, ID, ("compute", "internal")),
            "pod": [{"requireSameNode": False,
                     "labels": {"application": "nova", "component": "compute"}}]},
        "rabbit_init": {"services": _svc(MQ)},
        **_db_deps("nova"), **_ks_deps("nova"),
    }  # fmt: skip
    workloads = [
        _deploy("nova-api-osapi", "os-api", "osapi", "nova_api", "api", "osapi",
                flag="deployment_api_osapi", etc="nova-etc"),
        _deploy("nova-api-metadata", "metadata", "api_metadata", "nova_api", "api_metadata",
                "api_metadata", flag="deployment_api_metadata", etc="nova-etc"),
        _deploy("nova-conductor", "conductor", "conductor", "nova_conductor", "conductor",
                "conductor", flag="deployment_conductor", etc="nova-etc"),
        _deploy("nova-scheduler", "scheduler", "scheduler", "nova_scheduler", "scheduler",
                "scheduler", flag="deployment_scheduler", etc="nova-etc"),
        _deploy("nova-novncproxy", "novnc-proxy", "novncproxy", "nova_novncproxy",
                "novncproxy", "novncproxy", flag="deployment_novncproxy", etc="nova-etc"),
        _daemonset("nova-compute", "compute", "agent.compute", "nova_compute", "compute",
                   flag="daemonset_compute", per_host="nova_compute", etc="nova-etc"),
    ]  # fmt: skip
    labels = {name: CONTROL for name in (*control, "job")}
    labels["agent__compute"] = COMPUTE
    replicas = {name: 1 for name in control}
    images = {"nova_api": "svc:nova", "nova_conductor": "svc:nova", "nova_scheduler": "svc:nova",
              "nova_novncproxy": "svc:nova", "nova_compute": "svc:nova",
              "nova_db_sync": "svc:nova", "nova_cell_setup": "svc:nova"}  # fmt: skip
    endpoints: dict[str, Any] = {
        "identity": _identity(admin="admin", nova="nova", neutron="neutron",
                              placement="placement"),
        "oslo_db": _db("/nova", admin="root", nova="nova"),
        "oslo_messaging": _mq("/nova", admin="rabbitmq", nova="nova"),
        "oslo_cache": CACHE, "compute": COMPUTE_EP, "compute_metadata": METADATA_EP,
        "image": IMAGE_EP, "network": NETWORK_EP,
    }  # fmt: skip
    # Keystone users with an openrc Secret (nova's neutron user got one after 2019).
    ks_classes = (
        ("admin", "nova", "placement")
        if era == ERA_2019
        else ("admin", "nova", "neutron", "placement")
    )
    secrets = _secret_names(era, "nova", ks_classes, True, True)
    conf: dict[str, Any] = {"DEFAULT": {"cpu_allocation_ratio": 16.0, "my_ip": "0.0.0.0"},
                            "database": {"max_retries": -1},
                            "api_database": {"max_retries": -1}}  # fmt: skip
    db_secrets: tuple[tuple[str, tuple[str, ...]], ...]
    computed: tuple[tuple[str, str, str, str, str], ...]
    if era == ERA_2019:
        # Nova's three databases: the cells' main one, the API one and cell0.
        endpoints["oslo_db_api"] = _db("/nova_api", admin="root", nova="nova")
        endpoints["oslo_db_cell0"] = _db("/nova_cell0", admin="root", nova="nova")
        secrets["oslo_db_api"] = {"admin": "nova-db-api-admin", "nova": "nova-db-api-user"}
        secrets["oslo_db_cell0"] = {"admin": "nova-db-api-admin", "nova": "nova-db-api-user"}
        conf["cell0_database"] = {"max_retries": -1}
        db_secrets = (("oslo_db", ("admin", "nova")), ("oslo_db_api", ("admin", "nova")))
        computed = (
            ("database", "connection", "oslo_db", "nova", "mysql"),
            ("api_database", "connection", "oslo_db_api", "nova", "mysql"),
            ("cell0_database", "connection", "oslo_db_cell0", "nova", "mysql"),
        )
        db_init = _db_init(
            "nova",
            (
                ("oslo_db.admin", "database", None),
                ("oslo_db.admin", "api_database", None),
                ("oslo_db.admin", "cell0_database", None),
            ),
        )
        db_sync = _db_sync(
            "nova",
            Env("TRANSPORT_URL", secret="oslo_messaging.nova", key="TRANSPORT_URL"),
            Env("DB_CONNECTION", secret="oslo_db.nova", key="DB_CONNECTION"),
        )
        # StarlingX's manifest turns these off (placement has its own chart).
        workloads += [
            _deploy(
                "nova-consoleauth",
                "consoleauth",
                "consoleauth",
                "nova_consoleauth",
                "consoleauth",
                "consoleauth",
                flag="deployment_consoleauth",
                etc="nova-etc",
            ),
            _deploy(
                "nova-placement-api",
                "placement",
                "placement",
                "nova_placement",
                "api",
                "placement",
                flag="deployment_placement",
                etc="nova-etc",
            ),
        ]
        deps["consoleauth"] = service_deps
        labels.update(consoleauth=CONTROL, placement=CONTROL)
        replicas.update(consoleauth=1, placement=1)
        images.update(nova_consoleauth="svc:nova", nova_placement="svc:nova")
        endpoints["compute_metadata"] = {
            **METADATA_EP,
            "hosts": {"default": "nova-metadata", "public": "metadata"},
        }
    else:
        # Since 30a32ef6: oslo_db is the API database, oslo_db_cell1 the cells' main one.
        endpoints["oslo_db_cell0"] = _db("/nova_cell0", admin="root", nova="nova")
        endpoints["oslo_db_cell1"] = _db("/nova_cell1", admin="root", nova="nova")
        secrets["oslo_db"] = {"admin": "nova-db-admin"}
        secrets["oslo_db_cell0"] = {"admin": "nova-db-cell0-admin", "nova": "nova-db-cell0-user"}
        secrets["oslo_db_cell1"] = {"admin": "nova-db-cell1-admin"}
        db_secrets = (
            ("oslo_db", ("admin",)),
            ("oslo_db_cell0", ("admin", "nova")),
            ("oslo_db_cell1", ("admin",)),
        )
        computed = (
            ("database", "connection", "oslo_db_cell1", "nova", "mysql"),
            ("api_database", "connection", "oslo_db", "nova", "mysql"),
        )
        db_init = _db_init(
            "nova",
            (
                ("oslo_db.admin", "api_database", None),
                ("oslo_db.admin", "", "oslo_db_cell0.nova"),
                ("oslo_db_cell1.admin", "database", None),
            ),
        )
        db_sync = _db_sync(
            "nova", Env("DB_CONNECTION_CELL0", secret="oslo_db_cell0.nova", key="DB_CONNECTION")
        )
    return ChartFacts(
        "nova",
        tuple(workloads),
        jobs=(db_init, db_sync, *_ks_jobs("nova", "compute"), _rabbit_init("nova"),
              Job("nova-cell-setup", "cell-setup", "cell_setup", "nova_cell_setup",
                  "job_cell_setup", etc=True)),
        services=(Service("compute", "default", "api", component="os-api"),
                  Service("compute_metadata", "default", "metadata", component="metadata"),
                  *((Service("compute_metadata", "public", "metadata",
                             selector=(("app", "ingress-api"),)),) if era == ERA_2019 else ())),
        db_secrets=db_secrets,
        mq_secrets=("admin", "nova"),
        mq_transport_url=era == ERA_2019,
        ks_secrets=ks_classes,
        conf=ConfFile("nova-etc", "nova.conf", "nova", (
            *computed, ("DEFAULT", "transport_url", "oslo_messaging", "nova", "amqp"))),
        values={
            "labels": _labels(**labels),
            "pod": {"replicas": replicas, "affinity": ANTI, "lifecycle": LIFECYCLE},
            "images": {"tags": _images(era, **images, db_init="helper", ks_user="helper",
                                       ks_service="helper", ks_endpoints="helper",
                                       rabbit_init=_rabbit_init_image(era))},
            "network": {"backend": ["openvswitch"]},
            "dependencies": {"static": deps, "dynamic": {"targeted": {"openvswitch": {
                "compute": {"pod": [{"requireSameNode": True, "labels": {
                    "application": "neutron", "component": "neutron-ovs-agent"}}]}}}}},
            "endpoints": endpoints,
            "secrets": secrets,
            "conf": {"nova": conf, "overrides": {"nova_compute": {"hosts": []}}},
        },
    )  # fmt: skip


def neutron(era: str) -> ChartFacts:
    agent_deps: dict[str, Any] = {
        "pod": None,
        "jobs": ["neutron-rabbit-init"],
        "services": _svc(MQ, ("network", "internal"), ("compute", "internal")),
    }
    metadata_endpoint = "public" if era == ERA_2019 else "internal"
    same_node_as_ovs_agent = {
        "pod": [
            {
                "requireSameNode": True,
                "labels": {"application": "neutron", "component": "neutron-ovs-agent"},
            }
        ]
    }
    server_deps = {
        "jobs": [
            "neutron-db-sync",
            "neutron-ks-user",
            "neutron-ks-endpoints",
            "neutron-rabbit-init",
        ],
        "services": _svc(DB, MQ, CACHE_I, ID),
    }
    deps: dict[str, Any] = {
        "server": server_deps,
        "dhcp": agent_deps, "l3": agent_deps,
        "metadata": {**agent_deps, "services": [
            *agent_deps["services"],
            {"endpoint": metadata_endpoint, "service": "compute_metadata"}]},
        "ovs_agent": {
            "jobs": ["neutron-rabbit-init"],
            "pod": [{"requireSameNode": True, "labels": {"application": "openvswitch",
                                                         "component": c}}
                    for c in (("openvswitch-vswitchd", "openvswitch-vswitchd-db")
                              if era == ERA_2019 else ("server",))],
            "services": _svc(MQ, ("network", "internal"))},
        "rabbit_init": {"services": _svc(MQ)},
        **_db_deps("neutron"), **_ks_deps("neutron"),
    }  # fmt: skip
    workloads = [
        _deploy("neutron-server", "server", "server", "neutron_server", "server", "server",
                flag="deployment_server", etc="neutron-etc"),
        _daemonset("neutron-dhcp-agent", "dhcp-agent", "agent.dhcp", "neutron_dhcp", "dhcp",
                   flag="daemonset_dhcp_agent", etc="neutron-etc"),
        _daemonset("neutron-l3-agent", "l3-agent", "agent.l3", "neutron_l3", "l3",
                   flag="daemonset_l3_agent", etc="neutron-etc"),
        _daemonset("neutron-metadata-agent", "metadata-agent", "agent.metadata",
                   "neutron_metadata", "metadata", flag="daemonset_metadata_agent",
                   etc="neutron-etc"),
        _daemonset("neutron-ovs-agent", "neutron-ovs-agent", "ovs",
                   "neutron_openvswitch_agent", "ovs_agent", flag="daemonset_ovs_agent",
                   etc="neutron-etc"),
    ]  # fmt: skip
    labels = {"server": CONTROL, "job": CONTROL, "agent__dhcp": CONTROL, "agent__l3": CONTROL,
              "agent__metadata": CONTROL, "ovs": OVS, "test": CONTROL}  # fmt: skip
    replicas = {"server": 1}
    images = {
        "neutron_server": "svc:neutron",
        "neutron_dhcp": "svc:neutron",
        "neutron_l3": "svc:neutron",
        "neutron_metadata": "svc:neutron",
        "neutron_openvswitch_agent": "svc:neutron",
        "neutron_db_sync": "svc:neutron",
    }
    identity = {"admin": "admin", "neutron": "neutron", "nova": "nova"}
    if era == ERA_CURRENT:
        workloads.insert(
            1,
            _deploy(
                "neutron-rpc-server",
                "rpc_server",
                "rpc_server",
                "neutron_rpc_server",
                "rpc_server",
                "rpc_server",
                flag="deployment_rpc_server",
                etc="neutron-etc",
            ),
        )
        deps["rpc_server"] = {
            "jobs": ["neutron-db-sync", "neutron-rabbit-init"],
            "services": _svc(DB, MQ, CACHE_I, ID),
        }
        labels["rpc_server"] = CONTROL
        replicas["rpc_server"] = 1
        images["neutron_rpc_server"] = "svc:neutron"
        identity.update(nova="neutron_nova", placement="neutron_placement")
    # Keystone users with an openrc Secret (nova's and placement's came after 2019).
    ks_classes = tuple(identity) if era == ERA_CURRENT else ("admin", "neutron")
    return ChartFacts(
        "neutron",
        tuple(workloads),
        jobs=(_db_init("neutron", (("oslo_db.admin", "database", None),)), _db_sync("neutron"),
              *_ks_jobs("neutron", "network"), _rabbit_init("neutron")),
        services=(Service("network", "default", "api", component="server"),),
        db_secrets=(("oslo_db", _db_classes(era, "neutron")),),
        mq_secrets=("admin", "neutron"),
        ks_secrets=ks_classes,
        conf=ConfFile("neutron-etc", "neutron.conf", "neutron", (
            ("database", "connection", "oslo_db", "neutron", "mysql"),
            ("DEFAULT", "transport_url", "oslo_messaging", "neutron", "amqp"))),
        values={
            "labels": _labels(**labels),
            "pod": {"replicas": replicas, "affinity": ANTI, "lifecycle": LIFECYCLE},
            "images": {"tags": _images(era, **images, db_init="helper", ks_user="helper",
                                       ks_service="helper", ks_endpoints="helper",
                                       rabbit_init=_rabbit_init_image(era))},
            "network": {"backend": ["openvswitch"]},
            "dependencies": {"static": deps, "dynamic": {"targeted": {"openvswitch": {
                "dhcp": same_node_as_ovs_agent, "l3": same_node_as_ovs_agent,
                "metadata": same_node_as_ovs_agent}}}},
            "endpoints": {
                "identity": _identity(**identity),
                "oslo_db": _db("/neutron", admin="root", neutron="neutron"),
                "oslo_messaging": _mq("/neutron", admin="rabbitmq", neutron="neutron"),
                "oslo_cache": CACHE, "compute": COMPUTE_EP, "network": NETWORK_EP,
                "compute_metadata": {**METADATA_EP, "hosts": {"default": "nova-metadata",
                                                              "public": "metadata"}}},
            "secrets": _secret_names(era, "neutron", ks_classes, True, True),
            "conf": {"neutron": {"DEFAULT": {"l3_ha": False},
                                 "database": {"max_retries": -1}}},
        },
    )  # fmt: skip


def openvswitch(era: str) -> ChartFacts:
    image = ("docker.io/openstackhelm/openvswitch:latest-ubuntu_bionic" if era == ERA_2019
             else "quay.io/airshipit/openvswitch:latest-ubuntu_noble")  # fmt: skip
    workloads: tuple[Workload, ...]
    if era == ERA_2019:
        workloads = (
            _daemonset(
                "openvswitch-db",
                "openvswitch-vswitchd-db",
                "ovs",
                "openvswitch_db_server",
                "db",
                flag="daemonset_ovs_db",
            ),
            _daemonset(
                "openvswitch-vswitchd",
                "openvswitch-vswitchd",
                "ovs",
                "openvswitch_vswitchd",
                "vswitchd",
                flag="daemonset_ovs_vswitchd",
            ),
        )
        deps: dict[str, Any] = {"db": None, "vswitchd": None}
    else:
        workloads = (
            _daemonset(
                "openvswitch", "server", "ovs", "openvswitch_vswitchd", "ovs", flag="daemonset"
            ),
        )
        deps = {"ovs": None}
    return ChartFacts(
        "openvswitch",
        workloads,
        values={
            "labels": _labels(ovs=OVS),
            "images": {"tags": _images(era, openvswitch_db_server=image,
                                       openvswitch_vswitchd=image)},
            "dependencies": {"static": deps},
        },
    )  # fmt: skip


def libvirt(era: str) -> ChartFacts:
    image = ("docker.io/openstackhelm/libvirt:latest-ubuntu_xenial" if era == ERA_2019
             else "quay.io/airshipit/libvirt:2026.1-ubuntu_noble")  # fmt: skip
    return ChartFacts(
        "libvirt",
        (_daemonset("libvirt", "libvirt", "agent.libvirt", "libvirt", "libvirt",
                    flag="daemonset_libvirt"),),
        values={
            "labels": _labels(agent__libvirt=COMPUTE),
            "images": {"tags": _images(era, libvirt=image)},
            "network": {"backend": ["openvswitch"]},
            "dependencies": {
                "static": {"libvirt": {"services": None}},
                "dynamic": {"targeted": {"openvswitch": {"libvirt": {"pod": [{
                    "requireSameNode": True,
                    "labels": {"application": "neutron", "component": "neutron-ovs-agent"}}]}}}}},
        },
    )  # fmt: skip


STX_2019_TAG = "master-centos-stable-latest"


def nova_api_proxy(era: str) -> ChartFacts:
    """StarlingX's own chart (openstack-armada-app's nova-api-proxy), which has no override
    plugin: it registers nova's endpoints (the nova chart's job is turned off by the
    manifest) with the keystone Secrets of the nova chart."""
    return ChartFacts(
        "nova-api-proxy",
        (_deploy("nova-api-proxy", "api-proxy", "api_proxy", "nova_api_proxy", "api", "proxy",
                 flag="deployment_api_proxy"),),
        jobs=(Job("nova-ks-endpoints", "ks-endpoints", "ks_endpoints", "ks_endpoints",
                  "job_ks_endpoints", tuple(
                      (*_openrc("", "identity.admin"), Env("OS_SVC_ENDPOINT", iface),
                       Env("OS_SERVICE_NAME", "nova"), Env("OS_SERVICE_TYPE", "compute"))
                      for iface in ("admin", "internal", "public"))),),
        services=(Service("compute", "default", "api", component="api-proxy"),),
        application="nova",
        values={
            "labels": _labels(api_proxy=CONTROL, job=CONTROL),
            "pod": {"replicas": {"proxy": 1}, "affinity": ANTI_UNWEIGHTED,
                    "lifecycle": LIFECYCLE},
            "images": {"tags": {
                "nova_api_proxy": f"docker.io/starlingx/stx-nova-api-proxy:{STX_2019_TAG}",
                "ks_endpoints": "docker.io/openstackhelm/heat:pike",
                "dep_check": "quay.io/stackanetes/kubernetes-entrypoint:v0.3.1"}},
            "dependencies": {"static": {
                "ks_endpoints": {"jobs": ["nova-ks-user", "nova-ks-service"],
                                 "services": _svc(ID)}}},
            "endpoints": {"identity": _identity(admin="admin", nova="nova"),
                          "compute": {**COMPUTE_EP, "hosts": {"default": "nova-api-proxy",
                                                              "public": "nova"}}},
            "secrets": {"identity": {"admin": "nova-keystone-admin",
                                     "nova": "nova-keystone-user"}},
        },
    )  # fmt: skip


BUILDERS = (mariadb, rabbitmq, memcached, ingress, keystone, glance, placement, nova, neutron,
            openvswitch, libvirt, nova_api_proxy)  # fmt: skip


def charts(era: str) -> dict[str, ChartFacts]:
    if era not in ERAS:
        raise ValueError(f"unknown era {era!r} (have: {', '.join(ERAS)})")
    return {facts.name: facts for facts in (build(era) for build in BUILDERS)}
