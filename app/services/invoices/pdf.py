"""A document's PDF, rendered from its frozen snapshot (never from live rows).

`layout` says what the page holds, in the adapter's vocabulary (lines, tables, gaps): header
with logo and branding, the parties, the lines, totals and tax, schedule, payments, terms and
notes; the adapter draws it and adds the footer with "Page x of y"."""
from __future__ import annotations

import hashlib

from app.adapters import pdf
from app.adapters.pdf import Bold, Gap, Grid, line
from app.services.shared.money import format_money

TITLES = {"invoice": "Invoice", "receipt": "Receipt", "credit_note": "Credit note",
          "terms": "Booking terms"}
DEFAULT_BRAND = {"accent": "#222222", "logo": ""}
RIGHT_LAST = frozenset({3})


def _header(snap: dict, title: str) -> Grid:
    brand = snap.get("brand") or DEFAULT_BRAND
    vendor = [pdf.Logo(brand["logo"])] if brand["logo"] else []
    vendor.append(line(snap["tenant"]["name"], style="title", color=brand["accent"]))
    kind = [line(title, style="heading"), line("No. ", Bold(snap["number"])),
            line(f"Date: {snap['issued_on']}")]
    if snap["references"].get("invoice_number"):
        kind.append(line(f"For invoice {snap['references']['invoice_number']}"))
    return Grid(widths=(0.6, 0.4), right=frozenset({1}), rows=[[vendor, kind]])


def _parties(snap: dict) -> Grid:
    tenant, customer, booking = snap["tenant"], snap["customer"], snap["booking"]
    vendor = [line("From", style="strong"), line(tenant["name"])]
    vendor += [line(address) for address in tenant["address_lines"]]
    if tenant.get("tax_id"):
        vendor.append(line(f"Tax ID: {tenant['tax_id']}"))
    if tenant.get("email"):
        vendor.append(line(tenant["email"]))
    couple = [line("Booked by" if snap["kind"] == "terms" else "Bill to", style="strong"),
              line(customer["name"]), line(customer["email"]),
              line(f"Event date: {booking['event_date']}")]
    if booking.get("venue"):
        couple.append(line(f"Venue: {booking['venue']}"))
    couple.append(line(f"Booking #{booking['id']}"))
    return Grid(widths=(0.5, 0.5), rows=[[vendor, couple]])


def _sums(rows: list[tuple[str | pdf.Line, str]], *, total_last: bool = False) -> Grid:
    """Label and amount under the last two columns of the line table."""
    cells = [[[], [label if isinstance(label, pdf.Line) else line(label)],
              [amount if isinstance(amount, pdf.Line) else line(amount)]] for label, amount in rows]
    return Grid(widths=(0.62, 0.19, 0.19), right=frozenset({2}), rows=cells, total_last=total_last)


def layout(snap: dict) -> list[pdf.Block]:
    """What the document shows, top to bottom."""
    title = TITLES[snap["kind"]]
    currency, locale = snap["currency"], snap["locale"]

    def money(amount_minor: int) -> str:
        return format_money(amount_minor, currency, locale)

    tax = snap["tax"]
    inclusive = tax["inclusive"]
    blocks: list[pdf.Block] = [
        _header(snap, title), Gap(), _parties(snap), Gap(),
        Grid(widths=(0.52, 0.10, 0.19, 0.19), header=("Description", "Qty", "Unit price", "Amount"),
             right=frozenset({1, 2, 3}), ruled=True,
             rows=[[[line(item["description"])], [line(str(item["quantity"]))],
                    [line(money(item["unit_minor"]))], [line(money(item["amount_minor"]))]]
                   for item in snap["lines"]]),
        Gap(),
        _sums([("Subtotal (net)" if inclusive else "Subtotal", money(snap["subtotal_minor"])),
               (f"{tax['label']} {tax['rate_text']}" + (" (included)" if inclusive else ""),
                money(snap["tax_minor"])),
               (line("Total", style="total"), line(money(snap["total_minor"]), style="total"))],
              total_last=True),
    ]
    if snap.get("schedule"):
        blocks += [Gap(), line("Payment schedule", style="strong"), Grid(
            widths=(0.40, 0.22, 0.19, 0.19), ruled=True, right=RIGHT_LAST,
            header=("Stage", "Due", "Status" if snap["kind"] != "terms" else "", "Amount"),
            rows=[[[line(stage["label"])], [line(stage["due_date"] or "")], [line(str(stage["status"]))],
                   [line(money(stage["amount_minor"]))]] for stage in snap["schedule"]])]
    if snap.get("payments"):
        blocks += [Gap(), line("Payments", style="strong"), Grid(
            widths=(0.40, 0.41, 0.19), ruled=True, right=frozenset({2}),
            header=("Received", "Method", "Amount"),
            rows=[[[line(p["received_on"])], [line(p["method"])], [line(money(p["amount_minor"]))]]
                  for p in snap["payments"]])]
    if snap["kind"] == "terms":
        blocks += [Gap(), line("Cancellation policy", style="strong"), line(snap["policy_text"])]
        blocks += [line(text, style="muted") for text in snap["policy_lines"]]
        blocks += [Gap(), line("Accepted", style="strong"),
                   line(f"Accepted by {snap['acceptance']['by']} on {snap['acceptance']['at']}, "
                        "before booking.")]
    else:
        blocks += [Gap(), _sums([("Paid to date", money(snap["paid_minor"])),
                                 (line("Balance", style="strong"),
                                  line(money(snap["balance_minor"]), style="strong"))])]
    for heading, key in (("Terms", "terms"), ("Notes", "notes")):
        if snap.get(key):
            blocks += [Gap(), line(heading, style="strong"), line(snap[key])]
    return blocks


def render(snapshot: dict) -> tuple[bytes, str]:
    """The PDF bytes and their SHA-256 (hex)."""
    title = TITLES[snapshot["kind"]]
    content = pdf.render(layout(snapshot), title=f"{title} {snapshot['number']}",
                         footer=f"{snapshot['tenant']['name']} · {title} {snapshot['number']}")
    return content, hashlib.sha256(content).hexdigest()
