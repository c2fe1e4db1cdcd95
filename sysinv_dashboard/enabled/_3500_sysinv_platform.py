# The Platform dashboard (readable by admin and reader; the API refuses a reader's writes).
from sysinv_dashboard.api import SysinvError

DASHBOARD = "platform"
ADD_INSTALLED_APPS = ["sysinv_dashboard"]
DISABLED = False
# An API failure while a page loads becomes a message (and a redirect where the view
# asks for one), never an error page.
ADD_EXCEPTIONS = {"recoverable": (SysinvError,)}
