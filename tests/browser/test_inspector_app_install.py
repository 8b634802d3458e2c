"""A page opened while the app's first service worker is still installing becomes offline-ready too.

The worker claims the open pages when it activates; a page whose navigation started before that (so it
was not controlled) and whose document was not there yet when the worker claimed was left uncontrolled,
so the phone was not offline-ready until the app was opened again.  Here the shell's precache and the
next page load are held on the server so that exactly this happens: the inspector signs in while the
worker installs.
"""

from __future__ import annotations

from tests.browser.inspector_app import app_server, app_world, phones  # noqa: F401 - fixtures


def test_a_page_opened_during_the_first_install_is_taken_over(app_server, app_world, phones):
    # /app/ is loaded by the first visit, then by the worker's precache (held: the install ends after the
    # sign-in page starts loading), then by the sign-in page (held: it arrives after the worker activated).
    app_server.recorder.hold["/app/"] = [0, 1.5, 4]
    lead = phones("lead")
    lead.open()
    lead.login(app_world.world.lead_user.username)
    assert not app_server.recorder.hold["/app/"], "the page loads did not happen as this test arranges them"
    lead.wait_offline_ready()
