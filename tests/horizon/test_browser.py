"""sysinv's Horizon plugin in a real browser: chromium (Selenium) on Horizon on the test
Keystone, sysinv on the test cluster with Keystone auth. The tests run in order on one
stack: the admin adds and labels a host, locks and unlocks it, uploads and applies the
example application; the reader then sees everything and no action."""

from __future__ import annotations

import tarfile
import uuid
from pathlib import Path

import kubernetes.client
import pytest
from selenium.webdriver.common.by import By

from tests.horizon.browser import Browser
from tests.horizon.conftest import Platform
from tests.integration.example_app import build_variant

pytestmark = [pytest.mark.kube, pytest.mark.keystone]

HOST = "browser-w0"
APP = "hello-app"


def admin(browser: Browser, platform: Platform) -> None:
    browser.login(platform.keystone.admin.username, platform.keystone.admin.password)


def app_actions(browser: Browser) -> set[str]:
    """The actions the application's row offers (``applications__<action>__<name>``)."""
    buttons = browser.row("applications", APP).find_elements(
        By.CSS_SELECTOR, "button[value^='applications__']"
    )
    return {str(b.get_attribute("value")).split("__")[1] for b in buttons}


def test_admin_adds_a_host_labels_it_and_locks_and_unlocks_it(
    browser: Browser, platform: Platform
) -> None:
    admin(browser, platform)
    browser.open("/platform/sysinv_hosts/")
    browser.modal_form("#hosts__action_add", {"hostname": HOST, "personality": "worker"})
    browser.wait(lambda d: f"Host {HOST} added." in browser.messages(), what="the host")
    assert browser.cell("hosts", HOST, "Admin State") == "locked"
    assert browser.cell("hosts", HOST, "Personality") == "worker"

    # The same name again: sysinv's faultstring, in the form and as a message.
    browser.modal_form("#hosts__action_add", {"hostname": HOST, "personality": "worker"})
    said = f"Host with hostname {HOST} already exists"
    browser.wait(lambda d: said in browser.messages(), what=said)
    browser.open("/platform/sysinv_hosts/")

    # The detail page: overview, then the Labels tab.
    browser.click(browser.row("hosts", HOST).find_element(By.LINK_TEXT, HOST))
    browser.visible("#host_details")
    browser.ready()
    assert HOST in browser.find(".detail").text
    browser.screenshot("panel-host-overview")
    browser.click(browser.visible("a[data-target='#host_details__inventory']"))
    inventory = browser.visible("#host_details__inventory .detail").text
    assert "bm_type" in inventory and "capabilities" in inventory, inventory
    browser.click(browser.visible("a[data-target='#host_details__labels']"))
    browser.visible("table#labels")

    # A malformed key never leaves the form.
    browser.modal_form("#labels__action_assign", {"labels": "bad key!=x"})
    browser.wait(
        lambda d: "label key 'bad key!'" in browser.visible("#modal_wrapper .modal").text,
        what="the key's error",
    )
    browser.open(browser.driver.current_url.split("?")[0] + "?tab=host_details__labels")

    browser.modal_form("#labels__action_assign", {"labels": "tier=web\nzone=a"})
    browser.wait(lambda d: "Labels assigned: tier, zone" in browser.messages(), what="labels")
    browser.visible("table#labels")
    assert browser.cell("labels", "tier", "Value") == "web"

    # An existing key without overwrite: refused by sysinv, its words shown.
    browser.modal_form("#labels__action_assign", {"labels": "tier=db"})
    said = f"Label tier exists for host {HOST}"
    browser.wait(lambda d: said in browser.messages(), what=said)
    browser.open(browser.driver.current_url.split("?")[0] + "?tab=host_details__labels")
    browser.modal_form("#labels__action_assign", {"labels": "tier=db", "overwrite": "on"})
    browser.wait(lambda d: "Labels assigned: tier" in browser.messages(), what="overwrite")
    browser.visible("table#labels")
    assert browser.cell("labels", "tier", "Value") == "db"
    browser.screenshot("panel-host-labels")

    # Remove one label (a confirmed delete).
    zone = browser.row("labels", "zone")
    browser.click(zone.find_element(By.CSS_SELECTOR, "button[value^='labels__delete__']"))
    browser.confirm()
    browser.visible("table#labels")
    assert not browser.all("table#labels tr[data-display='zone']")

    # Unlock at once; lock (which takes the host out of service) after a confirmation.
    browser.open("/platform/sysinv_hosts/")
    row = browser.row("hosts", HOST)
    browser.click(row.find_element(By.CSS_SELECTOR, "button[value^='hosts__unlock__']"))
    browser.wait(lambda d: "Unlocked Host" in browser.messages(), what="the unlock")
    assert browser.cell("hosts", HOST, "Admin State") == "unlocked"
    row = browser.row("hosts", HOST)
    assert not row.find_elements(By.CSS_SELECTOR, "button[value^='hosts__delete__']")
    browser.click(row.find_element(By.CSS_SELECTOR, "button[value^='hosts__lock__']"))
    browser.confirm()
    assert browser.cell("hosts", HOST, "Admin State") == "locked"
    browser.screenshot("panel-hosts")

    # Delete (confirmed) a second host.
    browser.modal_form("#hosts__action_add", {"hostname": "browser-w1", "personality": "worker"})
    browser.wait(lambda d: "Host browser-w1 added." in browser.messages(), what="browser-w1")
    row = browser.row("hosts", "browser-w1")
    browser.click(row.find_element(By.CSS_SELECTOR, "button[value^='hosts__delete__']"))
    browser.confirm()
    browser.wait(lambda d: "Deleted Host" in browser.messages(), what="the delete")
    assert not browser.all("table#hosts tr[data-display='browser-w1']")
    assert browser.all(f"table#hosts tr[data-display='{HOST}']")


def test_admin_uploads_and_applies_the_example_application(
    browser: Browser, platform: Platform, tmp_path: Path
) -> None:
    bundle = build_variant(platform.helm, tmp_path / "build", f"hz-{uuid.uuid4().hex[:6]}")
    admin(browser, platform)
    browser.open("/platform/sysinv_applications/")
    browser.modal_form("#applications__action_upload", {"tarfile": str(bundle)})
    browser.wait(lambda d: f"Uploading application {APP}" in browser.messages(), what="upload")
    # The row refreshes itself while the upload runs: no reload from here on.
    browser.driver.execute_script("window.sysinvNoReload = true;")
    browser.wait(
        lambda d: browser.cell("applications", APP, "Status") == "uploaded",
        timeout=120, what="uploaded",
    )  # fmt: skip
    assert browser.driver.execute_script("return window.sysinvNoReload === true;")
    # Uploaded: apply and delete are offered, remove and abort are not.
    offered = app_actions(browser)
    assert offered == {"apply", "delete"}, offered
    assert not browser.all(f"#applications__row_{APP}__action_update")

    row = browser.row("applications", APP)
    browser.click(row.find_element(By.CSS_SELECTOR, "button[value^='applications__apply__']"))
    browser.wait(lambda d: "Applying Application" in browser.messages(), what="the apply")
    browser.driver.execute_script("window.sysinvNoReload = true;")
    seen: list[tuple[str, str]] = []

    def applied(_: object) -> bool:
        state = (browser.cell("applications", APP, "Status"),
                 browser.cell("applications", APP, "Progress"))  # fmt: skip
        if not seen or seen[-1] != state:
            seen.append(state)
        return state[0] == "applied"

    browser.wait(applied, timeout=300, what="applied")
    assert browser.driver.execute_script("return window.sysinvNoReload === true;"), seen
    assert seen[-1] == ("applied", "completed"), seen
    offered = app_actions(browser)
    assert offered == {"apply", "remove"}, offered
    assert browser.all(f"#applications__row_{APP}__action_update")
    browser.screenshot("panel-applications")

    browser.open("/platform/sysinv_system/")
    assert "simplex" in browser.find(".detail").text
    browser.modal_form("#system__modify", {"description": "Browser-tested platform"})
    browser.wait(lambda d: "System modified." in browser.messages(), what="the change")
    assert "Browser-tested platform" in browser.find(".detail").text
    browser.screenshot("panel-system")


def test_admin_edits_an_override_reapplies_and_updates(
    browser: Browser, platform: Platform, tmp_path: Path
) -> None:
    admin(browser, platform)
    browser.open("/platform/sysinv_overrides/")
    web = next(
        row for row in browser.all("table#charts tbody tr[data-display]")
        if str(row.get_attribute("data-display")).startswith("hello-web (")
    )  # fmt: skip
    display = str(web.get_attribute("data-display"))
    assert browser.cell("charts", display, "Enabled") == "True"
    browser.screenshot("panel-overrides")
    browser.click(web.find_element(By.LINK_TEXT, "hello-web"))
    browser.visible("#overrides-combined")
    # The example's charts have no system overrides (no plugin): all three start empty.
    assert "replicaCount" not in browser.find("#overrides-combined").text
    assert browser.find("#overrides-user").text == ""

    # Disable a chart, then enable it again.
    browser.open("/platform/sysinv_overrides/")
    worker = display.replace("hello-web", "hello-worker")
    row = browser.row("charts", worker)
    browser.click(row.find_element(By.CSS_SELECTOR, "button[value^='charts__disable__']"))
    browser.wait(lambda d: "Disabled Chart" in browser.messages(), what="disabled")
    assert browser.cell("charts", worker, "Enabled") == "False"
    row = browser.row("charts", worker)
    assert not row.find_elements(By.CSS_SELECTOR, "button[value^='charts__disable__']")
    browser.click(row.find_element(By.CSS_SELECTOR, "button[value^='charts__enable__']"))
    browser.wait(lambda d: "Enabled Chart" in browser.messages(), what="enabled")
    assert browser.cell("charts", worker, "Enabled") == "True"
    browser.open("/platform/sysinv_overrides/")
    browser.click(browser.row("charts", display).find_element(By.LINK_TEXT, "hello-web"))
    browser.visible("#overrides-combined")

    # Not a mapping: refused in the form, nothing sent.
    modal = "#modal_wrapper .modal"
    browser.modal_form("#overrides__edit", {"user_overrides": "- just\n- a list"})
    browser.wait(lambda d: "must be a YAML mapping" in browser.visible(modal).text, what="error")
    browser.open(browser.driver.current_url)
    browser.modal_form("#overrides__edit", {"user_overrides": "replicaCount: 2\n"})
    browser.wait(lambda d: "User overrides of hello-web saved." in browser.messages(), what="save")
    browser.visible("#overrides-user")
    assert "replicaCount: 2" in browser.find("#overrides-user").text
    assert "replicaCount: 2" in browser.find("#overrides-combined").text
    assert "replicaCount" not in browser.find("#overrides-system").text
    browser.screenshot("panel-override-detail")

    # Reapply: the new value reaches the release.
    browser.open("/platform/sysinv_applications/")
    row = browser.row("applications", APP)
    browser.click(row.find_element(By.CSS_SELECTOR, "button[value^='applications__apply__']"))
    browser.wait(lambda d: "Applying Application" in browser.messages(), what="the apply")
    browser.wait(
        lambda d: browser.cell("applications", APP, "Status") == "applied"
        and browser.cell("applications", APP, "Progress") == "completed",
        timeout=300, what="applied again",
    )  # fmt: skip
    namespace = display.split("(", 1)[1].rstrip(")")
    apps_v1 = kubernetes.client.AppsV1Api(platform.kube.api_client())
    deployments = apps_v1.list_namespaced_deployment(namespace).items
    replicas = {d.metadata.name: d.spec.replicas for d in deployments}
    assert 2 in replicas.values(), replicas

    # Update to a new version of the bundle: the user override is kept (the example's
    # metadata says maintain_user_overrides).
    newer = build_variant(platform.helm, tmp_path / "v2", namespace, version="1.0-2")
    browser.open("/platform/sysinv_applications/")
    browser.modal_form(f"#applications__row_{APP}__action_update", {"tarfile": str(newer)})
    said = f"Updating application {APP}."
    browser.wait(lambda d: said in browser.messages(), what=said)
    browser.wait(
        lambda d: browser.cell("applications", APP, "Version") == "1.0-2"
        and browser.cell("applications", APP, "Status") == "applied",
        timeout=300, what="updated to 1.0-2",
    )  # fmt: skip
    deployments = apps_v1.list_namespaced_deployment(namespace).items
    replicas = {d.metadata.name: d.spec.replicas for d in deployments}
    assert 2 in replicas.values(), replicas


def alarm_count(browser: Browser) -> int:
    """The count in the Alarms page's header, checked against the table's rows."""
    browser.open("/platform/sysinv_alarms/")
    header = browser.find(".page-header").text
    rows = browser.all("table#alarms tbody tr[data-display]")
    assert header == f"Active Alarms ({len(rows)})", header
    return len(rows)


def test_a_failed_upload_is_an_alarm_until_the_app_is_deleted(
    browser: Browser, platform: Platform, tmp_path: Path
) -> None:
    source = tmp_path / "broken"
    source.mkdir()
    (source / "metadata.yaml").write_text('app_name: broken-app\napp_version: "1.0"\n')
    bundle = tmp_path / "broken-app-1.0.tgz"
    with tarfile.open(bundle, "w:gz") as tar:
        tar.add(source / "metadata.yaml", arcname="metadata.yaml")
    admin(browser, platform)
    before = alarm_count(browser)

    browser.open("/platform/sysinv_applications/")
    browser.modal_form("#applications__action_upload", {"tarfile": str(bundle)})
    browser.wait(
        lambda d: browser.cell("applications", "broken-app", "Status") == "upload-failed",
        timeout=60, what="upload-failed",
    )  # fmt: skip
    assert "no charts/ directory" in browser.cell("applications", "broken-app", "Progress")
    row = browser.row("applications", "broken-app")
    buttons = row.find_elements(By.CSS_SELECTOR, "button[value^='applications__']")
    assert {str(b.get_attribute("value")).split("__")[1] for b in buttons} == {"delete"}

    assert alarm_count(browser) == before + 1
    alarm = browser.row("alarms", "750.001 k8s_application=broken-app")
    badge = alarm.find_element(By.CSS_SELECTOR, "span[data-severity]")
    assert badge.get_attribute("data-severity") == "major"
    assert "label-warning" in str(badge.get_attribute("class"))
    # A warning-coloured label: Bootstrap's orange, not the default grey.
    assert badge.value_of_css_property("background-color") != "rgba(119, 119, 119, 1)"
    browser.screenshot("panel-alarms")

    browser.open("/platform/sysinv_applications/")
    row = browser.row("applications", "broken-app")
    browser.click(row.find_element(By.CSS_SELECTOR, "button[value^='applications__delete__']"))
    browser.confirm()
    browser.wait(lambda d: "Deleted Application" in browser.messages(), what="the delete")
    assert not browser.all("table#applications tr[data-display='broken-app']")
    assert alarm_count(browser) == before


def test_abort_is_offered_while_an_apply_runs_then_remove_and_delete(
    browser: Browser, platform: Platform, tmp_path: Path
) -> None:
    name = "stuck-app"
    bundle = build_variant(
        platform.helm, tmp_path / "build", f"hz-{uuid.uuid4().hex[:6]}", stuck=True,
        app_name=name,
    )  # fmt: skip
    admin(browser, platform)
    browser.open("/platform/sysinv_applications/")
    browser.modal_form("#applications__action_upload", {"tarfile": str(bundle)})
    browser.wait(
        lambda d: browser.cell("applications", name, "Status") == "uploaded",
        timeout=120, what="uploaded",
    )  # fmt: skip
    row = browser.row("applications", name)
    assert not row.find_elements(By.CSS_SELECTOR, "button[value^='applications__abort__']")
    browser.click(row.find_element(By.CSS_SELECTOR, "button[value^='applications__apply__']"))
    browser.wait(lambda d: "Applying Application" in browser.messages(), what="the apply")
    # hello-web never gets ready: the row shows it as the running step, with Abort.
    browser.wait(
        lambda d: "hello-web" in browser.cell("applications", name, "Progress"),
        timeout=120, what="hello-web to start",
    )  # fmt: skip
    assert browser.cell("applications", name, "Status") == "applying"
    # The refreshed row carries the actions of its new state.
    browser.open("/platform/sysinv_applications/")
    row = browser.row("applications", name)
    browser.click(row.find_element(By.CSS_SELECTOR, "button[value^='applications__abort__']"))
    browser.confirm()
    browser.wait(
        lambda d: browser.cell("applications", name, "Status") == "apply-failed",
        timeout=120, what="the abort",
    )  # fmt: skip
    assert browser.cell("applications", name, "Progress").startswith("operation aborted")

    row = browser.row("applications", name)
    browser.click(row.find_element(By.CSS_SELECTOR, "button[value^='applications__remove__']"))
    browser.confirm()
    browser.wait(
        lambda d: browser.cell("applications", name, "Status") == "uploaded",
        timeout=180, what="removed",
    )  # fmt: skip
    row = browser.row("applications", name)
    browser.click(row.find_element(By.CSS_SELECTOR, "button[value^='applications__delete__']"))
    browser.confirm()
    browser.wait(lambda d: "Deleted Application" in browser.messages(), what="the delete")
    assert not browser.all(f"table#applications tr[data-display='{name}']")


def test_reader_sees_everything_and_no_action(browser: Browser, platform: Platform) -> None:
    reader = platform.keystone.reader
    browser.login(reader.username, reader.password)
    browser.open("/platform/sysinv_hosts/")
    assert browser.cell("hosts", HOST, "Admin State") == "locked"
    assert not browser.all(".data-table-action"), "a reader sees host actions"
    browser.open("/platform/sysinv_applications/")
    assert browser.cell("applications", APP, "Status") == "applied"
    assert not browser.all(".data-table-action"), "a reader sees application actions"
    browser.open("/platform/sysinv_overrides/")
    assert browser.all("table#charts tbody tr[data-display]")
    assert not browser.all(".data-table-action"), "a reader sees chart actions"
    browser.open("/platform/sysinv_system/")
    assert browser.find(".detail").text
    assert not browser.all("#system__modify")
    # Nor does a direct URL help: the API refuses the write, and says so.
    browser.open("/platform/add/")
    browser.find("#id_hostname").send_keys("reader-host")
    browser.click(browser.find("form#add_host_form .btn-primary, form#add_host_form [type=submit]"))
    browser.ready()
    browser.wait(lambda d: "reader role may only read" in browser.messages(), what="refusal")
