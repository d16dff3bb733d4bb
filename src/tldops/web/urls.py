"""The portal's URLs. Their paths and names are relied on by emails (``/authorise/…``,
``/confirm/…``), the browser tests and the docs: keep them stable."""

from django.urls import path

from tldops.web import views
from tldops.web.views import alert_filters as alert_filter_views
from tldops.web.views import alerts as alert_views
from tldops.web.views import catalog_editor as catalog_views
from tldops.web.views import exercises as exercise_views
from tldops.web.views import lists as list_views
from tldops.web.views import monitor as monitor_views
from tldops.web.views import monitor_incidents as incident_views
from tldops.web.views import monitor_probes as probe_views
from tldops.web.views import own_settings
from tldops.web.views import plans as plan_views
from tldops.web.views import playbooks as playbook_views
from tldops.web.views import public_alerts as public_alert_views
from tldops.web.views import reachability as reach_views
from tldops.web.views import repository as repository_views
from tldops.web.views import staff_home as staff_views

app_name = "web"

urlpatterns = [
    path("", views.coverage, name="coverage"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("account/2fa/", views.totp_setup, name="totp_setup"),
    path("home/", views.home, name="home"),
    path("directory/", views.directory, name="directory"),
    path("catalog/", views.catalog, name="catalog"),
    path("catalog/import/", catalog_views.catalog_import, name="catalog_import"),
    path("catalog/<str:alabel>/", views.tld_detail, name="tld"),
    path("catalog/<str:alabel>/edit/", catalog_views.tld_edit, name="tld_edit"),
    path("invitations/", views.invitations, name="invitations"),
    path("authorise/<str:token>/", views.authorise, name="authorise"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("manage/", views.manage, name="manage"),
    path("profile/", views.profile, name="profile"),
    path("profile/leave/", views.leave, name="leave"),
    path("profile/tokens/", views.tokens, name="tokens"),
    path("profile/delivery/", own_settings.delivery_settings, name="delivery"),
    path("profile/email/", own_settings.email_settings, name="email"),
    path("profile/email/confirm/<str:token>/", own_settings.email_confirm, name="email_confirm"),
    path("audit/", views.audit, name="audit"),
    # The staff home page and the outbox (tldops.web.views.staff_home).
    path("staff/", staff_views.staff_home, name="staff_home"),
    path("staff/outbox/", staff_views.outbox_page, name="staff_outbox"),
    path("staff/outbox/retry/", staff_views.outbox_retry, name="staff_outbox_retry"),
    path("members/<int:pk>/remove/", views.remove_member, name="remove_member"),
    path(
        "people/<int:pk>/second-factor/",
        views.reset_second_factor,
        name="reset_second_factor",
    ),
    # The list: members-only archive and the moderators' queue (tldops.web.views.lists).
    path("archive/", list_views.archive_index, name="archive"),
    path("archive/search/", list_views.archive_search, name="archive_search"),
    path("archive/tld-ops.mbox", list_views.archive_mbox, name="archive_mbox"),
    path("archive/<int:year>/<int:month>/", list_views.archive_month, name="archive_month"),
    path(
        "archive/<int:year>/<int:month>/mbox/",
        list_views.archive_month_mbox,
        name="archive_month_mbox",
    ),
    path("archive/thread/<int:pk>/", list_views.archive_thread, name="archive_thread"),
    path(
        "archive/thread/<int:pk>/mbox/", list_views.archive_thread_mbox, name="archive_thread_mbox"
    ),
    path("archive/message/<int:pk>/", list_views.archive_message, name="archive_message"),
    path(
        "archive/attachment/<int:pk>/<path:filename>",
        list_views.archive_attachment,
        name="archive_attachment",
    ),
    path("moderation/", list_views.moderation_queue, name="moderation"),
    path("moderation/<int:pk>/", list_views.moderation_post, name="moderation_post"),
    # Alerts (tldops.web.views.alerts): never in the page cache, always private, no-store.
    path("alerts/", alert_views.alert_list, name="alerts"),
    path("alerts/new/", alert_views.alert_new, name="alert_new"),
    path("alerts/filters/", alert_filter_views.alert_filters, name="alert_filters"),
    path(
        "alerts/filters/<int:pk>/delete/",
        alert_filter_views.alert_filter_delete,
        name="alert_filter_delete",
    ),
    path("alerts/<int:pk>/", alert_views.alert_detail, name="alert"),
    path("alerts/<int:pk>/react/", alert_views.alert_react, name="alert_react"),
    path("alerts/<int:pk>/status/", alert_views.alert_status, name="alert_status"),
    path("alerts/<int:pk>/indicators/", alert_views.alert_indicators, name="alert_indicators"),
    # Monitor incidents (tldops.web.views.monitor_incidents): private, no-store.
    path("monitor/incidents/", incident_views.incident_list, name="monitor_incidents"),
    path("monitor/incidents/<int:pk>/", incident_views.incident_detail, name="monitor_incident"),
    path(
        "monitor/incidents/<int:pk>/<slug:action>/",
        incident_views.incident_action,
        name="monitor_incident_action",
    ),
    # The playbooks (tldops.web.views.playbooks): public, every language, HTML and downloads.
    path("playbooks/", playbook_views.playbook_index, name="playbooks"),
    path("playbooks/<slug:playbook>/", playbook_views.playbook_default, name="playbook"),
    path(
        "playbooks/<slug:playbook>/<slug:language>/",
        playbook_views.playbook_page,
        name="playbook_page",
    ),
    path(
        "playbooks/<slug:playbook>/<slug:language>.cacao.zip",
        playbook_views.playbook_cacao,
        name="playbook_cacao",
    ),
    path(
        "playbooks/<slug:playbook>/<slug:language>/<slug:part>.cacao.json",
        playbook_views.playbook_cacao_one,
        name="playbook_cacao_one",
    ),
    path(
        "playbooks/<slug:playbook>/<slug:language>.html",
        playbook_views.playbook_html,
        name="playbook_html",
    ),
    path(
        "playbooks/<slug:playbook>/<slug:language>.pdf",
        playbook_views.playbook_pdf,
        name="playbook_pdf",
    ),
    # Exercises and live use of the playbooks (tldops.web.views.exercises): the ccTLD's contacts
    # only (404 for anyone else), private, no-store. The report paths before the actions.
    path("exercises/", exercise_views.exercise_list, name="exercises"),
    path("exercises/start/", exercise_views.exercise_start, name="exercise_start"),
    path("exercises/<int:pk>/", exercise_views.exercise_detail, name="exercise"),
    path("exercises/<int:pk>/report/", exercise_views.exercise_report, name="exercise_report"),
    path(
        "exercises/<int:pk>/report.pdf",
        exercise_views.exercise_report_pdf,
        name="exercise_report_pdf",
    ),
    path(
        "exercises/<int:pk>/steps/<slug:step_id>/",
        exercise_views.exercise_step,
        name="exercise_step",
    ),
    path(
        "exercises/<int:pk>/<slug:action>/",
        exercise_views.exercise_action,
        name="exercise_action",
    ),
    # Public alerts (tldops.web.views.public_alerts): TLP:CLEAR and made public only, for anyone.
    path("public/alerts/", public_alert_views.public_alert_list, name="public_alerts"),
    path("public/alerts/<int:pk>/", public_alert_views.public_alert_detail, name="public_alert"),
    # Reachability checks (tldops.web.views.reachability).
    path("reachable/<str:token>/", reach_views.answer, name="reachable"),
    path("reachability/", reach_views.report, name="reachability"),
    # A member's probes (tldops.web.views.monitor_probes), under the monitor's pages.
    path("monitor/probes/", probe_views.probe_list, name="monitor_probes"),
    path("monitor/probes/<int:pk>/revoke/", probe_views.probe_revoke, name="monitor_probe_revoke"),
    path(
        "monitor/probes/<int:pk>/reset-key/",
        probe_views.probe_reset_key,
        name="monitor_probe_reset_key",
    ),
    # The monthly contact repository (tldops.web.views.repository).
    path("repository/", repository_views.repository, name="repository"),
    path(
        "repository/current.<str:fmt>",
        repository_views.repository_current,
        name="repository_current",
    ),
    path(
        "repository/<str:period>.<str:fmt>",
        repository_views.repository_edition,
        name="repository_edition",
    ),
    # A ccTLD's own DR/BCP plan (tldops.web.views.plans): its active contacts only, 404 otherwise.
    path("plans/", plan_views.plan_index, name="plans"),
    path("plans/<str:alabel>/", plan_views.plan_view, name="plan"),
    path("plans/<str:alabel>/edit/", plan_views.plan_edit, name="plan_edit"),
    path("plans/<str:alabel>/signoff/", plan_views.plan_signoff, name="plan_signoff"),
    path("plans/<str:alabel>/plan.pdf", plan_views.plan_pdf, name="plan_pdf"),
    path(
        "plans/<str:alabel>/versions/<int:number>.pdf",
        plan_views.plan_version_pdf,
        name="plan_version_pdf",
    ),
    # The monitor (tldops.web.views.monitor): keep /monitor/<alabel>/ LAST, after every other
    # /monitor/… page (incidents, probes), which it would otherwise catch.
    path("monitor/", monitor_views.overview, name="monitor"),
    path("monitor/<str:alabel>/", monitor_views.tld_page, name="monitor_tld"),
]
