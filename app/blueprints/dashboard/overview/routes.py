"""The dashboard's first page: money at a glance, charts, upcoming events and what needs the
owner's attention."""
from __future__ import annotations

from flask import g, render_template

from app.blueprints.dashboard.scope import bp
from app.extensions import db
from app.services.bookings import overview
from app.services.reports import revenue
from app.web import charts
from app.web.page_cache import cached_page


@bp.get("/")
@cached_page
def home():
    tenant = g.tenant
    locale = tenant.locale or "en_US"
    glance = revenue.money_at_a_glance(db.session, tenant.id)
    drawn = {c: {"revenue": charts.revenue_chart(glance.revenue[c], c, locale),
                 "forecast": charts.forecast_chart(glance.forecast[c], c, locale)}
             for c in glance.currencies}
    return render_template("dashboard/home.html", tenant=tenant, glance=glance, charts=drawn,
                           month_label=lambda d: charts.month_label(d, locale),
                           now=overview.overview(db.session, g.tenant.id))
