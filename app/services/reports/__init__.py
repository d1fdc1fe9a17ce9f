"""Read-side figures for the dashboard: money at a glance, revenue by month, the cash-flow
forecast and the list of payments received. Plain data; the web layer draws it."""
