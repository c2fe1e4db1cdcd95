"""Selenium 4 driving Debian's chromium (``/usr/bin/chromium`` through
``/usr/bin/chromedriver``, headless; nothing is downloaded), and the few Horizon gestures
the tests repeat: log in, open a modal form, confirm an action, read a table row."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
REPO = Path(__file__).resolve().parents[2]
#: Screenshots the test run keeps (one per panel, and one per failed test).
ARTIFACTS = REPO / ".test-artifacts" / "horizon"


def start_chromium(profile: Path) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1400,1000", f"--user-data-dir={profile}"):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    return driver


def new_profile() -> Path:
    return Path(tempfile.mkdtemp(prefix="sysinv-chromium-"))


class Browser:
    """One logged-in (or not) chromium on one Horizon."""

    def __init__(self, driver: webdriver.Chrome, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def wait(self, until: Callable[[Any], Any], timeout: float = 30, what: str = "") -> Any:
        try:
            return WebDriverWait(
                self.driver, timeout, ignored_exceptions=(StaleElementReferenceException,)
            ).until(until)
        except TimeoutException:
            raise AssertionError(
                f"timed out after {timeout:.0f} s waiting for {what or until} "
                f"on {self.driver.current_url}"
            ) from None

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[WebElement]:
        return list(self.driver.find_elements(By.CSS_SELECTOR, css))

    def visible(self, css: str, timeout: float = 30) -> WebElement:
        def shown(driver: Any) -> WebElement | bool:
            for el in driver.find_elements(By.CSS_SELECTOR, css):
                if el.is_displayed():
                    return el  # type: ignore[no-any-return]
            return False

        return self.wait(shown, timeout, f"{css} to be visible")  # type: ignore[no-any-return]

    def open(self, path: str) -> None:
        self.driver.get(path if path.startswith("http") else f"{self.base_url}{path}")
        self.ready()

    def ready(self) -> None:
        self.wait(
            lambda d: d.execute_script(
                "return document.readyState === 'complete' && window.jQuery !== undefined "
                "&& jQuery.active === 0"
            ),
            what="the page and its requests to finish",
        )

    def login(self, username: str, password: str) -> None:
        self.open("/auth/login/")
        self.find("#id_username").send_keys(username)
        self.find("#id_password").send_keys(password)
        self.find("#loginBtn").click()
        self.wait(lambda d: "/auth/login/" not in d.current_url, what="the login to finish")
        self.ready()

    def logout(self) -> None:
        self.driver.delete_all_cookies()

    def click(self, element: WebElement) -> None:
        # Row actions may sit in a closed dropdown: a script click reaches them as a user
        # opening it would, and Horizon's handlers (bound on document) run the same.
        self.driver.execute_script("arguments[0].click();", element)

    def modal_form(self, opener_css: str, fields: dict[str, str]) -> WebElement:
        """Open a modal form, fill ``fields`` (``#id_<name>``: text, or a file path for a
        file input, "on" to tick a checkbox) and submit it; returns the modal."""
        self.click(self.find(opener_css))
        modal = self.visible("#modal_wrapper .modal form")
        for name, value in fields.items():
            field = modal.find_element(By.CSS_SELECTOR, f"#id_{name}")
            kind = field.get_attribute("type")
            if kind == "checkbox":
                if field.is_selected() != (value == "on"):
                    self.click(field)
            elif field.tag_name == "select":
                field.find_element(By.CSS_SELECTOR, f"option[value='{value}']").click()
            else:
                if kind != "file":
                    field.clear()
                field.send_keys(value)
        submit = modal.find_element(By.CSS_SELECTOR, ".modal-footer .btn-primary")
        self.click(submit)
        return modal

    def confirm(self) -> None:
        """Accept Horizon's confirmation dialog of a table action."""
        button = self.visible("#modal_wrapper .modal.in .modal-footer a.btn:not(.cancel)")
        self.click(button)
        self.wait(
            lambda d: not d.find_elements(By.CSS_SELECTOR, "#modal_wrapper .modal.in"),
            what="the confirmation to close",
        )
        self.ready()

    def row(self, table: str, display: str) -> WebElement:
        return self.visible(f"table#{table} tr[data-display='{display}']")

    def cell(self, table: str, display: str, column: str) -> str:
        row = self.row(table, display)
        headers = [th.text.strip() for th in self.all(f"table#{table} tr.table_column_header th")]
        cells = row.find_elements(By.TAG_NAME, "td")
        return str(cells[headers.index(column)].text.strip())

    def messages(self) -> str:
        return " | ".join(el.text for el in self.all(".messages .alert, .modal .alert"))

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path
