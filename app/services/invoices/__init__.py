"""Documents: invoices, receipts and credit notes with gapless per-tenant numbers, their frozen
snapshots, totals and tax, PDFs, the register and the tenant's invoice settings."""
